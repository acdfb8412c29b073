"""SubscriptionsArea: the window's Subscriptions dock, and the composition root of its parts.

Left, the transmitters known to the workspace with their streams; right, tabs for the
selected stream (editor, subjects, status / verify / poll) and the exchange log. The
parts only emit what they want done; this class runs it on the engine thread through
the `ManagementChannel` and hands each answer back to the part that asked.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QSplitter, QTabWidget, QToolBar, QTreeView, QVBoxLayout, QWidget

from app.ui.subscriptions.channel import ManagementChannel, client_for, list_transmitters
from app.ui.subscriptions.exchange_log import ExchangeLogPanel
from app.ui.subscriptions.stream_editor import StreamEditor
from app.ui.subscriptions.status_panel import StatusPanel
from app.ui.subscriptions.stream_actions import StreamActions, describe_answer
from app.ui.subscriptions.subjects_panel import SubjectsPanel
from app.ui.subscriptions.transmitter_tree import TransmitterListing, TransmitterTreeModel, TreeRole
from app.ui.untrusted import plain_label

STREAM_UPDATED = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"


class SubscriptionsArea(QWidget):
    refreshed = Signal()  # the tree shows a fresh listing
    answered = Signal(str)  # the operation whose answer was just shown

    def __init__(self, bridge, engine_owner, parent=None):
        super().__init__(parent)
        self._engine_owner = engine_owner  # has .engine_thread (the main window)
        self.channel = ManagementChannel(bridge, self)
        self.model = TransmitterTreeModel(self)
        self._select_after: str | None = None
        self._add_dialog = None
        self._emit_dialog = None

        self.toolbar = QToolBar(self)
        self.refresh_action = self.toolbar.addAction("Refresh", self.refresh)
        self.add_action = self.toolbar.addAction("Add transmitter…", self.open_add_transmitter)
        self.new_action = self.toolbar.addAction("New stream", self.new_stream)
        self.delete_action = self.toolbar.addAction("Delete stream…", self.confirm_delete_stream)
        self.forget_action = self.toolbar.addAction("Forget transmitter…", self.confirm_forget_transmitter)
        self.emit_action = self.toolbar.addAction("Emit test event…", self.open_emit_dialog)
        self._on_confirmed = None
        for action in (self.delete_action, self.forget_action, self.emit_action):
            action.setEnabled(False)  # until the selection says what they would act on
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setColumnWidth(0, 220)
        self.details = plain_label("Waiting for the engine…", self)
        self.editor = StreamEditor(self)
        self.tabs = QTabWidget(self)
        self.subjects = SubjectsPanel(self)
        self.tabs.addTab(self.editor, "Stream")
        self.status = StatusPanel(self)
        self.tabs.addTab(self.subjects, "Subjects")
        self.tabs.addTab(self.status, "Status")
        self.exchange_log = ExchangeLogPanel(self.channel, self)
        self.tabs.addTab(self.exchange_log, "Exchanges")

        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.tree, 1)
        column.addWidget(self.details)
        left.setMinimumWidth(180)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 600])  # the stream form gets the room (on a 1366 px screen the dock is ~600 px)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)

        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.stream_actions = StreamActions(self.channel, self.subjects, self.status, self)
        self.stream_actions.answered.connect(self.answered)
        self.stream_actions.streams_changed.connect(self.refresh)
        self.channel.ready.connect(self._channel_ready)
        bridge.events.connect(self.exchange_log.engine_events)
        bridge.events.connect(self._engine_events)
        # Stream changes made elsewhere (the simulator retiring a stream after a 410, a transmitter-initiated
        # pause, the emit CLI, a stream-updated SET at our receiver) refresh the tree, at most every 0.5 s.
        self._refresh_soon = QTimer(self)
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(500)
        self._refresh_soon.timeout.connect(self._auto_refresh)
        self.stale = False  # a change was seen but not shown, because the form has unsaved edits
        self._keep_tabs_of: tuple | None = None  # (issuer, stream_id) whose tabs a quiet refresh leaves alone
        self.editor.create_requested.connect(self.create_stream)
        self.editor.save_requested.connect(self.save_stream)

    # -- engine -------------------------------------------------------------------------
    def engine_ready(self, info: dict) -> None:
        self.channel.attach(self._engine_owner.engine_thread, info)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Installed on the main window: before it stops the engine on closing, end our calls."""
        if watched is self._engine_owner and event.type() == QEvent.Type.Close:
            self.channel.close()
        return False

    def _engine_events(self, events: list) -> None:
        from app.core.bus import CaptureStored, Changed

        if any((isinstance(e, Changed) and e.topic == "streams")
               or (isinstance(e, CaptureStored) and STREAM_UPDATED in e.event_types) for e in events):
            if not self._refresh_soon.isActive():
                self._refresh_soon.start()

    def _auto_refresh(self) -> None:
        if not self.channel.connected:
            return  # a fresh listing follows the (re)connection anyway
        if self.editor.edited:
            self.stale = True  # never overwrite what is being typed; Save, Create or Refresh shows it
            self.details.setText("Streams changed at the transmitter; Refresh to see (the form has unsaved edits).")
            return
        self.refresh(quiet=True)

    def _channel_ready(self, info: dict) -> None:
        self.refresh()
        self.exchange_log.reload()

    @property
    def receiver_url(self) -> str:
        return self.channel.info.get("receiver_url", "")

    # -- the tree -------------------------------------------------------------------------
    def refresh(self, select_stream: str | None = None, *, quiet: bool = False) -> None:
        """List the transmitters again. `quiet` (a change seen on the bus): if the same stream stays
        selected, its tabs keep what they show (subjects added here, a verification result) and
        only the form and the status are brought up to date."""
        self.stale = False
        self._refresh_soon.stop()  # this listing shows the changes seen so far
        if not self.channel.connected:  # stopped or restarting: a listing follows the next connection
            self.details.setText("Waiting for the engine…")  # not an error worth the window's error bar
            return
        self._select_after = select_stream or self._select_after or self.current_stream_id()
        shown = (self.current_issuer(), self.current_stream_id())
        self.channel.run("listing the transmitters", list_transmitters,
                         lambda listings: self._listed(listings, keep_tabs_of=shown if quiet else None))

    def _listed(self, listings: list[TransmitterListing], keep_tabs_of: tuple | None = None) -> None:
        keep = self._select_after
        self._select_after = None
        current_issuer = self.current_issuer()
        self._keep_tabs_of = keep_tabs_of
        self.model.set_listings(listings)
        self.tree.expandAll()
        index = self.model.find_stream(keep) if keep else QModelIndex()
        if not index.isValid() and current_issuer:
            index = self.model.find_transmitter(current_issuer)
        if not index.isValid():  # e.g. the simulator's issuer changed with its port after a restart
            index = self.model.index(0, 0)
        if index.isValid():
            self.tree.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self._keep_tabs_of = None
        self.refreshed.emit()

    def current_issuer(self) -> str | None:
        index = self.tree.currentIndex()
        return index.data(TreeRole.ISSUER) if index.isValid() else None

    def current_stream_id(self) -> str | None:
        index = self.tree.currentIndex().siblingAtColumn(0)
        return index.data(TreeRole.STREAM_ID) if index.isValid() else None

    def current_config(self) -> dict[str, Any] | None:
        issuer, stream_id = self.current_issuer(), self.current_stream_id()
        return self.model.config(issuer, stream_id) if issuer and stream_id else None

    def select_stream(self, stream_id: str) -> None:
        index = self.model.find_stream(stream_id)
        self.tree.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        issuer = self.current_issuer()
        listing = self.model.listings.get(issuer) if issuer else None
        self.delete_action.setEnabled(self.current_stream_id() is not None)
        self.forget_action.setEnabled(listing is not None and not listing.builtin)
        self.emit_action.setEnabled(any(t.builtin for t in self.model.listings.values()))
        if listing is None:
            self.editor.show_nothing()
            self.stream_selected("", None)
            return
        self.details.setText("\n".join(filter(None, [
            f"Metadata: {listing.metadata_url} ({listing.location})" if listing.metadata_url else "",
            *listing.notes, listing.problem])))
        config = self.current_config()
        keep_tabs, self._keep_tabs_of = self._keep_tabs_of == (issuer, self.current_stream_id()), None
        if keep_tabs and config is not None:
            if not self.editor.edited:  # typed in meanwhile: leave the form alone
                self.editor.show_stream(issuer, config, self.receiver_url)
            self.status.request_read()  # the status may be what changed; the other tabs keep their state
            return
        if config is not None:
            self.editor.show_stream(issuer, config, self.receiver_url)
        else:
            token = getattr(getattr(self._engine_owner, "settings", None), "receiver_token", None)
            self.editor.new_stream(issuer, listing.events_supported, self.receiver_url,
                                   receiver_authorization=f"Bearer {token}" if token else "")
        self.stream_selected(issuer, config)

    def stream_selected(self, issuer: str, config: dict | None) -> None:
        """Hand the selected stream to the tabs that act on one (subjects, status)."""
        self.subjects.set_stream(issuer, config)
        polling = config is not None and self.channel.auto_polling(str(config.get("stream_id")))
        self.status.set_stream(issuer, config, auto_polling=polling)

    def new_stream(self) -> None:
        issuer = self.current_issuer()
        listing = self.model.listings.get(issuer) if issuer else None
        if listing is not None:
            self.tree.selectionModel().setCurrentIndex(
                self.model.find_transmitter(issuer),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self._show_selected()  # a fresh form even when the transmitter was selected already
            self.tabs.setCurrentWidget(self.editor)

    # -- deleting, forgetting (after a confirmation opened with open(), never exec()) -------------
    def confirm_delete_stream(self) -> QMessageBox | None:
        issuer, stream_id = self.current_issuer(), self.current_stream_id()
        if not issuer or not stream_id:
            return None
        return self._confirm("Delete stream", f"Delete stream {stream_id} at {issuer}? The transmitter forgets "
                             "it and stops delivering its events.",
                             lambda: self.stream_actions.delete_stream(issuer, stream_id))

    def confirm_forget_transmitter(self) -> QMessageBox | None:
        issuer = self.current_issuer()
        listing = self.model.listings.get(issuer) if issuer else None
        if listing is None or listing.builtin:
            return None
        return self._confirm("Forget transmitter", f"Forget {issuer} and its saved credentials? Its streams are "
                             "left as they are at the transmitter.", lambda: self.stream_actions.forget(issuer))

    def _confirm(self, title: str, text: str, on_yes) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # the text carries network strings (ids, issuers)
        self._on_confirmed = on_yes
        box.finished.connect(self._confirmation_finished)
        box.finished.connect(box.deleteLater)
        box.open()
        return box

    def _confirmation_finished(self, result: int) -> None:
        box, on_yes, self._on_confirmed = self.sender(), self._on_confirmed, None
        if on_yes is not None and box is not None and box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
            on_yes()

    # -- transmitters -----------------------------------------------------------------------
    def open_add_transmitter(self):
        from app.ui.subscriptions.add_transmitter import AddTransmitterDialog

        dialog = AddTransmitterDialog(self)
        dialog.connect_requested.connect(self.add_transmitter)
        dialog.finished.connect(dialog.deleteLater)
        self._add_dialog = dialog
        dialog.open()
        return dialog

    def add_transmitter(self, issuer: str, auth: dict) -> None:
        dialog = self._add_dialog

        async def connect(subs, engine):
            from app.core.subscriptions import AuthSpec, TransmitterError

            client = await subs.connect(issuer, AuthSpec(**auth))
            try:  # the credentials are first used here: say now whether they work
                streams = f"The transmitter lists {len((await client.list_streams()).data)} stream(s)."
            except TransmitterError as exc:
                streams = f"Listing its streams failed: {exc}"
            return client.discovery, streams

        def done(result) -> None:
            found, streams = result
            text = [f"Connected to {found.issuer}.", f"Metadata found at {found.url}", f"({found.location}).", streams]
            text += ["", "Metadata notes:", *found.notes] if found.notes else ["", "The metadata validated without notes."]
            self._show_in(dialog, "\n".join(text))
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._show_in(dialog, f"Could not add {issuer}:\n{exc}")

        self.channel.run(f"adding {issuer}", connect, done, failed)

    def _show_in(self, dialog, text: str) -> None:
        import shiboken6

        if dialog is not None and shiboken6.isValid(dialog):
            dialog.show_result(text)

    # -- the simulator's Emit dialog ---------------------------------------------------------------
    def open_emit_dialog(self):
        from app.ui.subscriptions.emit_dialog import EmitDialog

        builtin = next((t for t in self.model.listings.values() if t.builtin), None)
        dialog = EmitDialog(builtin.streams if builtin else [], self)
        dialog.emit_requested.connect(self.emit_event)
        dialog.finished.connect(dialog.deleteLater)
        self._emit_dialog = dialog
        dialog.open()
        return dialog

    def emit_event(self, request: dict) -> None:
        import shiboken6

        dialog = self._emit_dialog

        async def emit(subs, engine):
            if engine.transmitter is None:
                raise RuntimeError("the built-in simulator is not running")
            return (await engine.transmitter.emit(**request)).to_json()

        def shown(result=None, error: str = "") -> None:
            if dialog is not None and shiboken6.isValid(dialog):
                dialog.show_result(result, error)

        def failed(exc: BaseException) -> None:
            shown(None, str(exc))
            self.answered.emit("error")

        def done(result: dict) -> None:
            shown(result)
            self.answered.emit("emit")

        self.channel.run("emitting a test event", emit, done, failed)

    # -- streams ------------------------------------------------------------------------------
    def create_stream(self, issuer: str, body: dict) -> None:
        async def create(subs, engine):
            return await (await client_for(subs, issuer)).create_stream(body)

        self.channel.run("creating a stream", create, self._stream_answer, self._editor_failed)

    def save_stream(self, issuer: str, method: str, body: dict) -> None:
        async def save(subs, engine):
            client = await client_for(subs, issuer)
            return await (client.update_stream(body) if method == "PATCH" else client.replace_stream(body))

        self.channel.run(f"saving stream {body.get('stream_id')}", save, self._stream_answer, self._editor_failed)

    def _stream_answer(self, answer) -> None:
        self.editor.show_answer(describe_answer(answer))
        config = answer.data if isinstance(answer.data, dict) else None
        if config is not None and config.get("stream_id"):
            self.editor.show_stream(self.editor.issuer, config, self.receiver_url)
            self.refresh(select_stream=config["stream_id"])
        self.answered.emit(answer.operation)

    def _editor_failed(self, exc: BaseException) -> None:
        self.editor.show_answer(f"Failed: {exc}")
        self.answered.emit("error")
