"""StreamActions: what the Subjects and Status tabs ask for, run on the engine thread.

Add / remove subject, read / change status, the verification round trip, Poll now and
auto-poll: each request from a panel becomes one coroutine over the core's
`Subscriptions` (through the `ManagementChannel`), and its answer, or the failure's
sentence, goes back to the panel that asked. `answered` names each finished operation.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QObject, Signal

from app.ui.subscriptions.channel import client_for


class StreamActions(QObject):
    answered = Signal(str)  # the operation whose answer was just shown ("error" for a failure)
    streams_changed = Signal()  # a stream was deleted or a transmitter forgotten: list again

    def __init__(self, channel, subjects, status, parent=None):
        super().__init__(parent)
        self.channel = channel
        self.subjects = subjects
        self.status = status
        self.verify_timeout = 10.0
        self._auto_counts: dict[str, int] = {}
        subjects.add_requested.connect(self.add_subject)
        subjects.remove_requested.connect(self.remove_subject)
        status.read_requested.connect(self.read_status)
        status.status_requested.connect(self.set_status)
        status.verify_requested.connect(self.verify)
        status.poll_requested.connect(self.poll_now)
        status.auto_poll_toggled.connect(self.toggle_auto_poll)
        channel.polled.connect(self._auto_polled)
        channel.auto_poll_stopped.connect(self._auto_poll_stopped)

    # -- subjects ------------------------------------------------------------------------------
    def add_subject(self, issuer: str, stream_id: str, subject: dict, verified: bool) -> None:
        async def add(subs, engine):
            return await (await client_for(subs, issuer)).add_subject(stream_id, subject, verified=verified)

        self._subject_call("adding a subject", add, stream_id, "added", subject)

    def remove_subject(self, issuer: str, stream_id: str, subject: dict) -> None:
        async def remove(subs, engine):
            return await (await client_for(subs, issuer)).remove_subject(stream_id, subject)

        self._subject_call("removing a subject", remove, stream_id, "removed", subject)

    def _subject_call(self, what: str, fn, stream_id: str, done_as: str, subject: dict) -> None:
        def done(answer) -> None:
            self.subjects.show_answer(stream_id, done_as, subject, describe_answer(answer))
            self.answered.emit(answer.operation)

        def failed(exc: BaseException) -> None:
            self.subjects.show_answer(stream_id, "", None, f"Failed: {exc}")
            self.answered.emit("error")

        self.channel.run(what, fn, done, failed)

    # -- deleting, forgetting ------------------------------------------------------------------------
    def delete_stream(self, issuer: str, stream_id: str) -> None:
        async def delete(subs, engine):
            return await (await client_for(subs, issuer)).delete_stream(stream_id)

        def done(answer) -> None:
            self.channel.stop_auto_poll(stream_id)
            self.answered.emit(answer.operation)
            self.streams_changed.emit()

        self.channel.run(f"deleting stream {stream_id}", delete, done)

    def forget(self, issuer: str) -> None:
        async def forget(subs, engine):
            await subs.forget_transmitter(issuer)

        def done(_) -> None:
            self.answered.emit("forget")
            self.streams_changed.emit()

        self.channel.run(f"forgetting {issuer}", forget, done)

    # -- status, verification, poll --------------------------------------------------------------
    def read_status(self, issuer: str, stream_id: str) -> None:
        async def read(subs, engine):
            return await (await client_for(subs, issuer)).get_status(stream_id)

        self.channel.run(f"reading the status of {stream_id}", read,
                         lambda a: self._status_answer(stream_id, a, announce=False),
                         lambda exc: self.status.show_status(stream_id, None, f"Failed: {exc}"))

    def set_status(self, issuer: str, stream_id: str, status: str, reason: str) -> None:
        async def change(subs, engine):
            return await (await client_for(subs, issuer)).set_status(stream_id, status, reason or None)

        def failed(exc: BaseException) -> None:
            self.status.show_status(stream_id, None, f"Failed: {exc}")
            self.answered.emit("error")

        self.channel.run(f"changing the status of {stream_id}", change, lambda a: self._status_answer(stream_id, a),
                         failed)

    def _status_answer(self, stream_id: str, answer, *, announce: bool = True) -> None:
        self.status.show_status(stream_id, answer.data, "\n".join(f"note: {n}" for n in answer.notes))
        if announce:
            self.answered.emit(answer.operation)

    def verify(self, issuer: str, config: dict) -> None:
        stream_id, timeout = str(config.get("stream_id")), self.verify_timeout

        async def round_trip(subs, engine):
            return await subs.verify(await client_for(subs, issuer), config, timeout=timeout)

        def done(outcome) -> None:
            self.status.show_verification(stream_id, outcome)
            self.answered.emit("verify")

        def failed(exc: BaseException) -> None:
            self.status.show_verification(stream_id, None, str(exc))
            self.answered.emit("error")

        self.channel.run(f"verifying stream {stream_id}", round_trip, done, failed)

    def poll_now(self, issuer: str, config: dict) -> None:
        stream_id = str(config.get("stream_id"))

        async def poll(subs, engine):
            poller = subs.poller(await client_for(subs, issuer), config)
            outcome = await poller.poll(return_immediately=True)
            await poller.flush()  # acknowledge what verified now, not on some later poll
            return outcome

        def done(outcome) -> None:
            self.status.show_poll(stream_id, outcome)
            self.answered.emit("poll")

        def failed(exc: BaseException) -> None:
            self.status.show_poll(stream_id, None, str(exc))
            self.answered.emit("error")

        self.channel.run(f"polling stream {stream_id}", poll, done, failed)

    def toggle_auto_poll(self, issuer: str, config: dict, on: bool) -> None:
        stream_id = str(config.get("stream_id"))
        if on:
            self._auto_counts[stream_id] = 0
            self.channel.start_auto_poll(issuer, config)
        else:
            self.channel.stop_auto_poll(stream_id)

    def _auto_polled(self, stream_id: str, count: int) -> None:
        self._auto_counts[stream_id] = self._auto_counts.get(stream_id, 0) + count
        self.status.show_auto_poll(stream_id, count, self._auto_counts[stream_id])

    def _auto_poll_stopped(self, stream_id: str, why: str) -> None:
        if why:
            self.status.auto_poll_ended(stream_id, why)


def describe_answer(answer) -> str:
    """An Answer as text: status, notes, the JSON the transmitter sent (normalised)."""
    lines = [f"{answer.operation}: HTTP {answer.status}"]
    lines += [f"note: {n}" for n in answer.notes]
    if answer.data is not None:
        lines += ["", json.dumps(answer.data, indent=2, ensure_ascii=False)]
    return "\n".join(lines)
