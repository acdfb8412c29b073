"""Replay from the window over the real engine on loopback: edit a claim and re-sign
into our own receiver, JSON errors marked at the spot, exact replay to an aiohttp
endpoint, a bulk run cancelled, the Replays view, untrusted text kept literal."""

import asyncio
import json
import threading

import pytest
from aiohttp import web
from PySide6.QtCore import Qt

from app.core.replay_targets import RECEIVER, URL, ReplayTarget, load_last_target
from app.core.store.captures import get_capture
from app.ui.capture_model import COL_VERDICT
from app.ui.replays_view import COL_STATE
from conftest import push

HOSTILE = "<b>x</b><img src=http://127.0.0.1:1/x>"


class Endpoint:
    """An aiohttp endpoint on 127.0.0.1:0, on a loop and thread of its own (the GUI thread has no loop,
    and the engine's stops when the window closes, before fixtures are torn down)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.runner = None
        self.url = ""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-endpoint", daemon=True)

    async def _start(self):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"

    async def _handle(self, request):
        self.requests.append({"headers": dict(request.headers), "body": await request.read()})
        return web.Response(status=204)

    def __enter__(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def endpoint():
    with Endpoint() as e:
        yield e


def newest_capture(window):
    window.model.refresh()
    return get_capture(window._conn, window.model.capture_id(window.model.index(window.model.rowCount() - 1, 0)))


def open_editor(window, qtbot, body, headers=None):
    push(window, body, headers) if headers else push(window, body)
    qtbot.waitUntil(lambda: window.model.rowCount() >= 1, timeout=5000)
    window.select_row(window.model.rowCount() - 1)
    return window.replay.edit_and_replay()


def test_edit_a_claim_resign_and_replay_into_our_receiver_shows_a_valid_capture(window, trusted_peer, qtbot):
    dialog = open_editor(window, qtbot, trusted_peer.set())
    claims = json.loads(dialog.claims.text())
    claims["txn"] = "edited-in-the-dialog"
    dialog.claims.set_text(json.dumps(claims, indent=2))
    dialog.picker.set_target(ReplayTarget(RECEIVER))
    assert dialog.send_button.isEnabled() and dialog.signing_mode() == "resign"
    assert dialog.fresh_iat.isChecked() and dialog.fresh_jti.isChecked() and dialog.set_issuer.isChecked()
    with qtbot.waitSignal(dialog.replayed, timeout=10000) as sent:
        dialog.send_button.click()
    outcome = sent.args[0]
    assert (outcome.state, outcome.status) == ("delivered", 202)
    assert dialog.result.text().startswith("delivered · HTTP 202 · ") and "re-signed with" in dialog.notes.text()
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    assert window.model.data(window.model.index(1, COL_VERDICT)) == "valid"
    replayed = newest_capture(window)
    assert replayed["set_claims"]["txn"] == "edited-in-the-dialog"
    assert replayed["set_claims"]["iss"] == window.engine_thread.engine.transmitter.issuer
    assert replayed["jti"] != claims["jti"]
    dialog.close()


def test_a_json_error_in_the_claims_is_marked_at_its_line_and_send_is_disabled(window, trusted_peer, qtbot):
    dialog = open_editor(window, qtbot, trusted_peer.set())
    assert dialog.send_button.isEnabled()
    dialog.claims.set_text('{\n  "iss": "x",\n  "iat": ,\n  "jti": "j"\n}')
    assert not dialog.send_button.isEnabled()
    assert dialog.claims.error_position == (3, 10)
    assert dialog.claims.message.text() == "claims: line 3, column 10: Expecting value"
    assert dialog.claims.message.isVisibleTo(dialog)
    marks = dialog.claims.editor.extraSelections()
    assert marks and {m.cursor.blockNumber() for m in marks} == {2}
    dialog.claims.set_text('{"iat": "yesterday"}')  # parses, but the core's claim check refuses it
    assert not dialog.send_button.isEnabled() and "'iat' must be" in dialog.claims.message.text()
    assert dialog.claims.error_position is None and not dialog.claims.editor.extraSelections()
    dialog.claims.set_text('{"iat": 1}')
    assert dialog.send_button.isEnabled() and not dialog.claims.message.isVisibleTo(dialog)
    dialog.headers.set_text('[["only-a-name"]]')
    assert not dialog.send_button.isEnabled()
    dialog.close()


def test_a_core_error_on_send_is_marked_in_the_editor_it_names(window, trusted_peer, qtbot):
    dialog = open_editor(window, qtbot, trusted_peer.set())
    dialog._failed(__import__("app.core.replay", fromlist=["x"]).ReplayEditError("claims: line 2, column 3: bad"))
    assert dialog.claims.error_position == (2, 3) and dialog.tabs.currentWidget() is dialog.claims
    assert not dialog.send_button.isEnabled() and dialog.result.text() == "Not sent: claims: line 2, column 3: bad"
    dialog.close()


def test_exact_replay_to_an_endpoint_sends_identical_bytes_and_remembers_the_target(window, endpoint, qtbot):
    body = b'{"a": 1}\r\n\x00\xff binary tail'
    push(window, body, {"Content-Type": "application/octet-stream", "X-Sig": "abc"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.select_row(0)
    dialog = window.replay.replay_to()
    dialog.picker.set_target(ReplayTarget(URL, endpoint.url))
    with qtbot.waitSignal(window.replay.replayed, timeout=10000) as sent:
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert sent.args[0].status == 204
    [request] = endpoint.requests
    assert request["body"] == body and request["headers"]["X-Sig"] == "abc"
    assert request["headers"]["Content-Type"] == "application/octet-stream"
    qtbot.waitUntil(lambda: load_last_target(window._conn) == ReplayTarget(URL, endpoint.url), timeout=5000)
    with qtbot.waitSignal(window.replay.replayed, timeout=10000):
        window.replay.replay_last_action.trigger()
    assert [r["body"] for r in endpoint.requests] == [body, body]
    assert window.replay.last_result.text().startswith("Replay of #1: delivered · HTTP 204")


def test_a_cancelled_bulk_replay_is_marked_cancelled_in_the_replays_view(window, endpoint, qtbot, qtmodeltester):
    for n in range(30):
        push(window, json.dumps({"n": n}).encode(), {"Content-Type": "application/json"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 30, timeout=5000)
    dialog = window.replay.replay_selection()
    dialog.picker.set_target(ReplayTarget(URL, endpoint.url))
    dialog.rate.setValue(10)
    with qtbot.waitSignal(dialog.run_started, timeout=10000):
        dialog.start_button.click()
    assert not dialog.start_button.isEnabled()
    with qtbot.waitSignal(dialog.run_finished, timeout=10000) as finished:
        dialog.cancel_button.click()
    summary = finished.args[0]
    assert summary.state == "cancelled" and 0 < summary.sent < 30
    assert dialog.items.topLevelItemCount() == summary.sent == len(endpoint.requests)
    assert dialog.state.text().startswith(f"Run #{summary.run_id} cancelled")
    dialog.close()
    window.replay.show_replays()
    view = window.replay.view
    row = view.model.row_of("run", summary.run_id)
    assert view.model.data(view.model.index(row, COL_STATE)) == "cancelled"
    assert view.select("run", summary.run_id)
    assert view.attempts.topLevelItemCount() == summary.sent
    qtmodeltester.check(view.model)


def test_replays_view_lists_single_replays_with_attempts_and_asks_for_timelines(window, endpoint, qtbot, qtmodeltester):
    push(window, b"hello", {"Content-Type": "text/plain"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.select_row(0)
    with qtbot.waitSignal(window.replay.replayed, timeout=10000) as sent:
        window.replay.replay_exact(newest_capture(window), ReplayTarget(URL, endpoint.url))
    view = window.replay.view
    view.refresh()
    qtmodeltester.check(view.model)
    delivery_id = sent.args[0].delivery_id
    assert view.select("replay", delivery_id)
    attempt = view.attempts.topLevelItem(0)
    assert (attempt.text(0), attempt.text(2)) == ("attempt 1", "204")
    with qtbot.waitSignal(window.replay.timeline_requested) as asked:
        view.timeline_button.click()
    assert asked.args == [delivery_id]


def test_untrusted_claims_stay_literal_in_the_dialog(window, trusted_peer, qtbot):
    dialog = open_editor(window, qtbot, trusted_peer.set(txn=HOSTILE))
    assert HOSTILE in dialog.claims.text()
    assert json.loads(dialog.claims.text())["txn"] == HOSTILE
    labels = [dialog.summary, dialog.result, dialog.notes, dialog.claims.message]
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
    dialog.claims.set_text('{"txn": "' + HOSTILE + '", }')
    assert dialog.claims.message.textFormat() == Qt.TextFormat.PlainText and "line 1" in dialog.claims.message.text()
    dialog.close()


def test_a_resigned_set_replayed_into_a_simulator_stream_goes_out_through_it(window, trusted_peer, endpoint, qtbot):
    from app.core.replay_targets import STREAM

    async def create(engine):
        stream, _ = await engine.transmitter.create(
            {"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": endpoint.url}, "description": HOSTILE})
        return stream.stream_id

    stream_id = window.engine_thread.call(create).result(5)
    dialog = open_editor(window, qtbot, trusted_peer.set())
    qtbot.waitUntil(lambda: dialog.picker.choice.count() == 3, timeout=5000)  # the streams arrive from the engine
    assert HOSTILE in dialog.picker.choice.itemText(2)
    dialog.picker.set_target(ReplayTarget(STREAM, stream_id=stream_id))
    assert not dialog.policy.isEnabled()  # the stream's own policy applies
    with qtbot.waitSignal(dialog.replayed, timeout=10000) as sent:
        dialog.send_button.click()
    assert sent.args[0].state == "pending" and "queued on stream" in dialog.notes.text()
    qtbot.waitUntil(lambda: len(endpoint.requests) == 1, timeout=5000)
    assert endpoint.requests[0]["headers"]["Content-Type"] == "application/secevent+jwt"
    dialog.close()


def test_replay_failed_since_sends_only_the_refused_captures(window, trusted_peer, qtbot):
    push(window, trusted_peer.set())
    push(window, trusted_peer.set(iss="https://unknown.example.com"))  # 400
    push(window, b"", {"Content-Type": "text/plain"})  # 400
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    dialog = window.replay.replay_failed()
    selection = dialog.selection()
    assert selection.failed_only and selection.since is not None
    dialog.picker.set_target(ReplayTarget(RECEIVER))
    dialog.rate.setValue(0)  # as fast as possible
    with qtbot.waitSignal(dialog.run_finished, timeout=10000) as finished:
        dialog.start_button.click()
    summary = finished.args[0]
    assert (summary.state, summary.total, summary.sent) == ("finished", 2, 2)
    assert summary.failed == 2  # refused again by our receiver, as they were the first time
    assert dialog.progress.value() == dialog.progress.maximum() == 2
    dialog.close()


def test_the_capture_list_offers_the_replay_actions_in_its_context_menu_and_toolbar(window):
    texts = [a.text() for a in window.replay.context_menu.actions() if not a.isSeparator()]
    assert texts[:4] == ["Replay to last target", "Replay to…", "Edit and replay…", "Replay selection…"]
    assert {"Copy as curl", "Compare…"} <= set(texts)
    assert window.table.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    assert [a.text() for a in window.replay.toolbar.actions()] == texts[:4]


def test_the_original_signature_over_an_edit_is_refused_and_the_dialog_says_so(window, trusted_peer, qtbot):
    dialog = open_editor(window, qtbot, trusted_peer.set())
    claims = json.loads(dialog.claims.text())
    dialog.claims.set_text(json.dumps({**claims, "txn": "tampered"}))
    dialog.signing.button(2).setChecked(True)
    assert dialog.signing_mode() == "original" and not dialog.fresh_iat.isEnabled()
    dialog.picker.set_target(ReplayTarget(RECEIVER))
    with qtbot.waitSignal(dialog.replayed, timeout=10000):
        dialog.send_button.click()
    assert dialog.result.text().startswith("failed · HTTP 400")
    assert "must refuse it" in dialog.notes.text()
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    assert window.model.data(window.model.index(1, COL_VERDICT)) == "invalid"
    dialog.close()


def test_closing_the_bulk_dialog_cancels_its_run_and_the_dialog_goes_when_it_ends(window, endpoint, qtbot):
    import shiboken6

    for n in range(10):
        push(window, json.dumps({"n": n}).encode(), {"Content-Type": "application/json"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 10, timeout=5000)
    dialog = window.replay.replay_selection()
    dialog.picker.set_target(ReplayTarget(URL, endpoint.url))
    dialog.rate.setValue(2)
    with qtbot.waitSignal(dialog.run_started, timeout=10000):
        dialog.start_button.click()
    with qtbot.waitSignal(dialog.run_ended, timeout=10000):
        dialog.close()  # Close while running: cancel, keep the dialog until the run has ended
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=5000)
    window.replay.show_replays()
    view = window.replay.view
    assert view.model.data(view.model.index(0, COL_STATE)) == "cancelled"
    assert len(endpoint.requests) < 10


def test_an_edited_webhook_keeping_an_old_signed_timestamp_gets_a_freshness_note(window, endpoint, qtbot):
    import time

    old = str(int(time.time()) - 3600)
    dialog = open_editor(window, qtbot, b'{"type": "invoice.paid"}',
                         {"Content-Type": "application/json", "Stripe-Signature": f"t={old},v1=deadbeef"})
    assert not dialog.signing_box.isVisibleTo(dialog) and dialog.body.toPlainText() == '{"type": "invoice.paid"}'
    dialog.body.setPlainText('{"type": "invoice.refunded"}')
    dialog.picker.set_target(ReplayTarget(URL, endpoint.url))
    with qtbot.waitSignal(dialog.replayed, timeout=10000):
        dialog.send_button.click()
    assert endpoint.requests[0]["body"] == b'{"type": "invoice.refunded"}'
    assert "signed timestamp is 1 h" in dialog.notes.text()
    dialog.close()


def test_open_timeline_shows_the_replay_in_the_deliveries_dock(window, endpoint, qtbot):
    push(window, b"hello", {"Content-Type": "text/plain"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.select_row(0)
    with qtbot.waitSignal(window.replay.replayed, timeout=10000) as sent:
        window.replay.replay_exact(window.replay.current_capture(), ReplayTarget(URL, endpoint.url))
    window.show()
    window.replay.show_replays()
    from app.ui.retry_views import menu_named

    assert window.replay.show_view_action in menu_named(window, "&View").actions()
    view = window.replay.view
    assert view.select("replay", sent.args[0].delivery_id)
    view.timeline_button.click()
    retry_views = window.retry_views
    assert retry_views.deliveries_dock is not None and retry_views.deliveries_dock.isVisible()


def test_a_selection_saved_in_the_bulk_dialog_is_offered_and_replayed_by_name(window, endpoint, qtbot):
    from app.ui.bulk_replay import SAVED, SELECTED

    for n in range(3):
        push(window, json.dumps({"n": n}).encode(), {"Content-Type": "application/json"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    window.select_row(1)
    dialog = window.replay.replay_selection()
    dialog.choice.button(SELECTED).setChecked(True)
    dialog.save_name.setText("the middle one")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.saved.count() == 1, timeout=5000)
    dialog.close()
    again = window.replay.replay_selection()
    qtbot.waitUntil(lambda: again.choice.button(SAVED).isEnabled(), timeout=5000)
    again.choice.button(SAVED).setChecked(True)
    again.picker.set_target(ReplayTarget(URL, endpoint.url))
    with qtbot.waitSignal(again.run_finished, timeout=10000) as finished:
        again.start_button.click()
    assert finished.args[0].succeeded == 1
    assert [json.loads(r["body"])["n"] for r in endpoint.requests] == [1]
    again.close()
