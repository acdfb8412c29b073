"""MainWindow: the composition root of the window. It owns the engine thread, the
bridge, the capture list and the detail panels, and wires them; panels emit
signals upward and only this class connects them.

Start-up order: the window is built and painted without importing the engine;
`start_engine()` (called right after the first paint) starts it on its thread.
The list reads the workspace through its own read-only connection.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import shiboken6

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.core.workspace_settings import ReceiverSettings, load_settings, trusted_issuers
from app.ui.bridge import EngineBridge
from app.ui.capture_model import CaptureListModel
from app.ui.capture_table import CaptureTable
from app.ui.filter_bar import FilterBar
from app.ui.status import ErrorBar, ReceiverStatus
from app.ui import preferences

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    # The count behind the dense-id assumption scans an index (~0.3 s per million captures):
    # it waits until start-up and the first interactions are over, not to compete with them.
    DENSITY_CHECK_DELAY_MS = 2000

    engine_started = Signal(dict)  # ready_info
    engine_stopped = Signal()  # the engine was stopped (not restarted): its ports are closed
    engine_stopping = Signal()  # the running engine is about to stop (for good, or to restart)
    capture_shown = Signal(int)  # the id the panels now show
    first_painted = Signal()
    report_error = Signal(str)  # from any thread: shown in the error bar (queued)
    _density_known = Signal(object, bool)  # (view, dense) from the worker thread that counted

    def __init__(self, workspace: Path, parent=None, *, open_after_paint: bool = False):
        super().__init__(parent)
        self.workspace = Path(workspace).resolve()
        self.settings = ReceiverSettings()
        self.engine_thread = None  # app.core.engine_thread.EngineThread once started
        self.bridge = EngineBridge(self)
        self.bus = None  # app.core.bus.Bus, made with the engine
        self._conn = None
        self._trusted: set[str] = set()
        self._shown_id: int | None = None

        self.error_bar = ErrorBar(self)
        self.filter_bar = FilterBar(self)
        self.model = CaptureListModel(parent=self)
        self.table = CaptureTable(self.model, self)

        self.details = QTabWidget(self)  # the panels are added by _build_panels

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.error_bar)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.status = ReceiverStatus(self)
        self.statusBar().addWidget(self.status, 1)

        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(500)
        self._stats_timer.timeout.connect(self._update_counts)

        self.filter_bar.filter_changed.connect(self._filter_changed)
        self.table.current_capture_changed.connect(self._show_capture)
        self.bridge.captures_stored.connect(self._captures_stored)
        self.bridge.problem.connect(self._engine_problem)
        self.bridge.failed.connect(self._call_failed)
        self.bridge.changed.connect(self._workspace_changed)
        self.error_bar.action_triggered.connect(self._error_action)
        self.report_error.connect(self.show_error)
        self._density_known.connect(self._density_checked)
        self._dense_confirmed = False
        self._painted = False
        self._build_actions()
        self.resize(1280, 720)
        self._layout_restored = preferences.restore_window(self)
        if open_after_paint:  # launch: paint the frame first, then the panels, the store and the engine
            self.setWindowTitle(f"{self.workspace.name} — Signalscope")
            self.first_painted.connect(self._open_after_paint)
        else:
            self._build_panels()
            self._open_workspace_view()
            self._restore_docks()

    def _build_panels(self) -> None:
        # The Subscriptions dock imports asyncio and the core's client (~80 ms): after the first paint.
        from app.ui.subscriptions import install_subscriptions

        self.subscriptions = install_subscriptions(self)
        from app.ui.panels.decoded import DecodedPanel
        from app.ui.panels.raw_http import RawHttpPanel
        from app.ui.panels.verification import VerificationPanel

        self.decoded = DecodedPanel(self)
        self.verification = VerificationPanel(self)
        self.raw_http = RawHttpPanel(self)
        self.details.addTab(self.decoded, "Decoded")
        self.details.addTab(self.verification, "Verification")
        self.details.addTab(self.raw_http, "Raw HTTP")
        self.verification.trust_requested.connect(self.trust_issuer)
        preferences.restore_detail_tab(self)
        if not self._layout_restored:  # first run: the list above, a bit more room for the panels
            total = max(self.splitter.height(), 600)
            self.splitter.setSizes([total * 2 // 5, total - total * 2 // 5])

    # -- actions and keys -----------------------------------------------------------
    def _build_actions(self) -> None:
        find = QAction("Filter", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.filter_bar.focus_text)
        self.addAction(find)
        from app.ui.menus import build_menus  # the menu bar: workspace, settings

        build_menus(self)
        from app.ui.retry_views import install_retry_views  # deliveries, timelines, policy lab, fault rules

        self.retry_views = install_retry_views(self)
        from app.ui.replay_actions import install as install_replay  # replay actions, dialogs, Replays dock

        self.replay = install_replay(self)
        from app.ui.captures_io import install as install_captures_io  # import/export, drops, curl, compare

        self.captures_io = install_captures_io(self, self.replay)

    # -- the workspace ----------------------------------------------------------------
    def _open_workspace_view(self) -> None:
        from app.core.store.schema import WorkspaceError, connect, open_workspace

        self.setWindowTitle(f"{self.workspace.name} — Signalscope")
        try:
            open_workspace(self.workspace).close()  # creates it, or brings its schema up to date
            self._conn = connect(self.workspace, readonly=True)
            self.settings = load_settings(self._conn)
            preferences.apply_theme(self.settings.theme)
        except (WorkspaceError, OSError) as exc:
            self._conn = None
            self.model.set_view(None)
            self.error_bar.show_error(str(exc), action="Open another workspace…", key="open")
            return
        self._trusted = {i for i, _, _ in trusted_issuers(self._conn)}
        from app.core.capture_view import CaptureView

        self._dense_confirmed = False
        self.model.set_view(CaptureView(self._conn, self.filter_bar.current_filter()))
        self._check_density()
        preferences.add_recent(self.workspace)
        self.retry_views.reload()
        if self.model.rowCount():
            self.table.scrollToBottom()
        QTimer.singleShot(0, self._fill_filter_choices)

    def _open_after_paint(self) -> None:
        QTimer.singleShot(0, self._build_panels)
        QTimer.singleShot(0, self._open_workspace_view)
        QTimer.singleShot(0, self.start_engine)
        QTimer.singleShot(0, self._restore_docks)

    # -- docks ---------------------------------------------------------------------------
    def _docks(self) -> dict[str, tuple]:
        """name -> (the dock if it exists, how to open it). Some docks are built on first use."""
        views = self.retry_views
        subscriptions = getattr(self, "subscriptions", None)
        return {
            "subscriptions": (getattr(subscriptions, "dock", None),
                              lambda: subscriptions.dock.show() if subscriptions is not None else None),
            "replays": (self.replay.dock, self.replay.show_replays),
            "deliveries": (views.deliveries_dock, lambda: views.toggle_deliveries(True)),
            "observed": (views.observed_dock, lambda: views.toggle_observed(True)),
        }

    def open_docks(self) -> list[str]:
        return [name for name, (dock, _) in self._docks().items() if dock is not None and dock.isVisibleTo(self)]

    def _restore_docks(self) -> None:
        """Reopen the docks that were open when the window last closed, where they were."""
        names, state = preferences.saved_docks()
        docks = self._docks()
        for name in names:
            if name in docks:
                docks[name][1]()
        if state is not None and names:
            self.restoreState(state)

    def _fill_filter_choices(self) -> None:
        if self._conn is None:
            return
        from app.core.capture_view import distinct_values

        issuers = sorted(set(distinct_values(self._conn, "issuer")) | self._trusted)
        from app.core.catalogue import default_catalogue

        types = sorted(set(distinct_values(self._conn, "event_type")) | {e.uri for e in default_catalogue().events})
        self.filter_bar.set_choices(issuers, types)

    def switch_workspace(self, path: Path) -> None:
        """Stop the engine on the current workspace and start it on `path`."""
        self._close_view()
        self.workspace = Path(path).resolve()
        self._open_workspace_view()
        if self.engine_thread is None:
            return
        if self._conn is not None:
            self.start_engine()
        else:  # not a workspace: the engine must not keep serving the previous one
            self._stats_timer.stop()
            self.status.set_stopped("Stopping…")  # "Not listening" once the ports are really closed
            self.engine_stopping.emit()
            self.bridge.run(self.engine_thread.stop_engine(), "stopping the engine", self._engine_stopped)

    def _engine_stopped(self, _result=None) -> None:
        if self._conn is None:  # still on the file that is not a workspace (not restarting on another)
            self.status.set_stopped("Not listening")
        self.engine_stopped.emit()

    def _close_view(self) -> None:
        self.model.set_view(None)
        self._show_capture(None)
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the engine ------------------------------------------------------------------
    def start_engine(self) -> None:
        from app.core.engine_thread import EngineThread
        from app.core.workspace_settings import engine_options

        if self._conn is None:
            return
        if self.bus is None:
            from app.core.bus import Bus

            self.bus = Bus()
            self.bus.subscribe(self.bridge.publish)
        if self.engine_thread is None:
            self.engine_thread = EngineThread(on_error=self.report_error.emit)
        if self.engine_thread.engine is not None:
            self.engine_stopping.emit()  # a restart: the old engine goes first
        self.status.set_stopped("Starting…")
        future = self.engine_thread.start_engine(engine_options(self.workspace, self.settings), self.bus)
        self.bridge.run(future, "starting the engine", self._engine_ready, self._engine_failed)

    def _engine_ready(self, info: dict) -> None:
        self.status.set_listening(info)
        self._stats_timer.start()
        self.model.refresh()
        sim_url = info.get("transmitter_url")
        if self.settings.receiver_port == 0 or (self.settings.transmitter_port == 0 and sim_url):
            # Keep the ports we got, so the receiver URL and the simulator's issuer stay the same next time.
            from urllib.parse import urlsplit

            from app.core.workspace_settings import save_settings_op

            self.settings.receiver_port = self.settings.receiver_port or urlsplit(info["receiver_url"]).port or 0
            if sim_url and self.settings.transmitter_port == 0:
                self.settings.transmitter_port = urlsplit(sim_url).port or 0
            op = save_settings_op(self.settings)  # serialised here, on the GUI thread
            self.bridge.run(self.engine_thread.call(lambda e: e.writer.run(op)), "saving the settings")
        self.engine_started.emit(info)

    def _engine_failed(self, exc: BaseException) -> None:
        from app.core.engine_thread import describe_start_error

        message, port_in_use = describe_start_error(exc, self.settings.receiver_port)
        self.status.set_stopped("Not listening")
        log.error("%s", message)
        self.error_bar.show_error(message, action="Use another port…" if port_in_use else "", key="port")

    def _update_counts(self) -> None:
        engine = self.engine_thread.engine if self.engine_thread else None
        receiver = getattr(engine, "receiver", None)
        if receiver is not None:
            self.status.set_counts(receiver.stats.requests, receiver.stats.failures)

    def trust_issuer(self, issuer: str, jwks_url: str | None = None, jwks: dict | None = None) -> None:
        if self.engine_thread is None:
            return

        async def trust(engine):
            await engine.trust_issuer(issuer, jwks_url=jwks_url, jwks=jwks)
            await engine.trust.refresh(issuer)  # fetch the keys now, so a failure shows now

        self.bridge.run(self.engine_thread.call(trust), f"trusting {issuer}")

    def _workspace_changed(self, topic: str) -> None:
        if topic == "issuers" and self._conn is not None:
            self._trusted = {i for i, _, _ in trusted_issuers(self._conn)}
            self._show_capture(self._shown_id, force=True)

    # -- the list --------------------------------------------------------------------
    def _captures_stored(self, events: list) -> None:
        self.model.refresh()
        self._update_counts()

    def _filter_changed(self, flt) -> None:
        keep = self._shown_id
        self.model.set_filter(flt)
        self._reselect(keep)
        self._check_density()

    def _check_density(self) -> None:
        """The unfiltered list opens assuming dense ids; count them on a worker thread
        (a scan of ~0.3 s per million captures) and reload exactly if they are not."""
        view = self.model.view
        if view is not None and view.assumes_dense and not self._dense_confirmed:
            # with self as the context: no call if the window is gone by then
            QTimer.singleShot(self.DENSITY_CHECK_DELAY_MS, self, lambda: self._start_density_count(view))

    def _start_density_count(self, view) -> None:
        if view is not self.model.view or not view.assumes_dense or self._dense_confirmed:
            return
        path = self.workspace

        def count() -> None:
            from app.core.capture_view import ids_are_dense
            from app.core.store.schema import connect

            conn = connect(path, readonly=True)
            try:
                dense = ids_are_dense(conn)
            finally:
                conn.close()
            try:
                if shiboken6.isValid(self):
                    self._density_known.emit(view, dense)
            except RuntimeError:  # the window was deleted meanwhile: nobody to tell
                pass

        threading.Thread(target=count, name="capture-count", daemon=True).start()

    def _density_checked(self, view, dense: bool) -> None:
        if view is not self.model.view:
            return
        if dense:
            self._dense_confirmed = True
            return
        log.warning("capture ids have gaps: listing them exactly")
        keep = self._shown_id
        self.model.reload_exact()
        self._reselect(keep)

    def _reselect(self, capture_id: int | None) -> None:
        if not self.table.select_capture(capture_id):
            self._show_capture(None)

    def select_row(self, row: int) -> None:
        self.table.select_row(row)

    def show_capture_in_list(self, capture_id: int) -> None:
        """Select a capture in the list (from a delivery attempt); say so when the filter hides it."""
        self.raise_()
        if not self.table.select_capture(capture_id):
            self.error_bar.show_error(f"Capture #{capture_id} is hidden by the current filter; clear it to see it.",
                                      key="capture-hidden")

    def _show_capture(self, capture_id: int | None, *, force: bool = False) -> None:
        if capture_id == self._shown_id and not force:
            return
        self._shown_id = capture_id
        from app.core.store.captures import get_capture

        capture = get_capture(self._conn, capture_id) if capture_id is not None and self._conn is not None else None
        self.decoded.show_capture(capture)
        self.verification.show_capture(capture, trusted=self._trusted)
        self.raw_http.show_capture(capture)
        if capture is not None:
            self.capture_shown.emit(capture_id)

    def show_delivery_timeline(self, delivery_id: int) -> None:
        """Show the Deliveries dock with this delivery's timeline (for other views to call)."""
        self.retry_views.show_delivery_timeline(delivery_id)

    # -- problems --------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.error_bar.show_error(text)

    def _engine_problem(self, message: str, detail: str) -> None:
        log.warning("%s: %s", message, detail)
        self.error_bar.show_error(f"{message}: {detail}" if detail else message)

    def _call_failed(self, what: str, error: str) -> None:
        log.error("%s failed: %s", what, error)
        self.error_bar.show_error(f"{what[:1].upper()}{what[1:]} failed: {error}")

    def _error_action(self, key: str) -> None:
        from app.ui import menus

        if key == "port":
            menus.ask_port(self)
        elif key == "open":
            menus.open_workspace(self)

    def apply_settings(self, settings: ReceiverSettings) -> None:
        """Save new settings and restart the engine with them (ports, token, limits)."""
        from app.core.workspace_settings import save_settings_op

        self.settings = settings
        preferences.apply_theme(settings.theme)
        self.error_bar.hide()
        if self.engine_thread is not None and self.engine_thread.engine is not None:
            op = save_settings_op(settings)
            future = self.engine_thread.call(lambda e: e.writer.run(op))
            self.bridge.run(future, "saving the settings", lambda _: self.start_engine())
        else:
            from app.core.store.schema import open_workspace

            conn = open_workspace(self.workspace)  # no engine has it open: write directly
            try:
                save_settings_op(settings)(conn)
            finally:
                conn.close()
            self.start_engine()

    def forget_issuer(self, issuer: str) -> None:
        if self.engine_thread is not None:
            self.bridge.run(self.engine_thread.call(lambda e: e.forget_issuer(issuer)), f"forgetting {issuer}")

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    # -- closing ---------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        preferences.save_window(self)
        self._stats_timer.stop()
        if self.engine_thread is not None:
            self.engine_thread.close()
            self.engine_thread = None
        self.bridge.drain()
        self._close_view()
        super().closeEvent(event)

    def saved_state(self) -> dict[str, QByteArray]:
        return {"geometry": self.saveGeometry(), "splitter": self.splitter.saveState(),
                "header": self.table.horizontalHeader().saveState(), "open_docks": self.open_docks(),
                "dock_state": self.saveState()}
