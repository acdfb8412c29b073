"""TimelineView: a delivery's attempts painted on a zoomable, pannable axis; selecting
an attempt shows its details; a pending retry counts down live."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from app.core.store.schema import connect
from app.core.timeline import DELIVERED, RETRY, build_timeline, delivery_timeline
from app.ui.attempt_details import AttemptDetails, attempt_text
from app.ui.timeline_view import LaneView, TimelineView
from sim_runs import simulate_deliveries


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def pending_timeline(now=100.0):
    attempts = [{"n": 1, "started_at": 0.0, "ended_at": 0.1, "status": 503, "error": None, "next_retry_at": 1.1},
                {"n": 2, "started_at": 1.1, "ended_at": 1.2, "status": 429, "error": None, "retry_after": 120,
                 "next_retry_at": 121.2, "response_headers": [("Retry-After", "120")], "response_body": "<b>slow</b>"}]
    return build_timeline("#7 session-revoked", attempts, "pending", now)


def make_view(qtbot, clock=None, **kw):
    view = TimelineView(clock=clock or FakeClock(100.0), **kw)
    qtbot.addWidget(view)
    view.resize(800, 160)
    return view


def test_a_real_delivery_503_twice_then_202_is_drawn_with_three_markers(qtbot, tmp_path):
    workspace = tmp_path / "ws.signalscope"
    _, [delivery_id], now = simulate_deliveries(workspace)
    conn = connect(workspace, readonly=True)
    timeline = delivery_timeline(conn, delivery_id, now)
    conn.close()
    view = make_view(qtbot, FakeClock(now))
    view.set_timeline(timeline)
    view.show()
    image = view.grab().toImage()
    assert [m.outcome for m in view.lanes[0].timeline.attempts] == [RETRY, RETRY, DELIVERED]
    for index in range(3):  # each marker is painted in its outcome's colour
        pos = view.marker_pos(0, index)
        colour = image.pixelColor(int(pos.x()), int(pos.y()))
        assert colour.name() == view.colour(timeline.attempts[index].outcome).name()
    assert [g.label.endswith("backoff") for g in timeline.gaps] == [True, True]
    assert view.accessibleDescription().endswith(": #1 503 retry, #2 503 retry, #3 202 delivered; delivered")


def test_clicking_an_attempt_selects_it_and_the_details_show_it_as_plain_text(qtbot):
    view = make_view(qtbot)
    details = AttemptDetails()
    qtbot.addWidget(details)
    view.attempt_selected.connect(details.show_attempt)
    view.set_timeline(pending_timeline())
    view.show()
    with qtbot.waitSignal(view.attempt_selected, timeout=1000) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.marker_pos(0, 1).toPoint())
    assert blocker.args[0].n == 2 and view.selected_attempt().n == 2
    text = details.toPlainText()
    assert "Attempt #2: 429" in text and "Retry-After: 120 s" in text and "<b>slow</b>" in text
    assert text == attempt_text(view.selected_attempt())
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert view.selected_attempt().n == 1


def test_zoom_changes_the_span_and_pan_shifts_it(qtbot):
    view = make_view(qtbot)
    view.set_timeline(pending_timeline())
    view.show()
    span = view.axis.end - view.axis.start
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert abs((view.axis.end - view.axis.start) - span / 1.5) < 1e-6
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.axis.end - view.axis.start > span
    start, span = view.axis.start, view.axis.end - view.axis.start
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.axis.start > start and abs(view.axis.end - view.axis.start - span) < 1e-6
    before = view.axis.start
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPointF(400, 140).toPoint())
    qtbot.mouseMove(view, QPointF(500, 140).toPoint())
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPointF(500, 140).toPoint())
    assert view.axis.start < before  # dragging right shows earlier times
    qtbot.keyClick(view, Qt.Key.Key_Home)
    for _ in range(30):
        view.zoom(1 / 3)
    assert view.axis.end - view.axis.start == 30 * 86400  # zooms out to days, and no further


def test_the_pending_label_counts_down_live(qtbot):
    clock = FakeClock(100.0)
    view = make_view(qtbot, clock)
    view.set_timeline(pending_timeline())
    assert view.timer.isActive()
    assert view.pending_text() == "next in 21 s"
    clock.now = 111.0
    qtbot.wait(view.timer.interval() + 50)
    assert view.pending_text() == "next in 10 s"
    clock.now = 130.0
    assert view.pending_text() == "next attempt due now"
    done = build_timeline("done", [{"n": 1, "started_at": 0.0, "ended_at": 0.1, "status": 202, "error": None}],
                          "delivered", 130.0)
    view.set_timeline(done)
    assert not view.timer.isActive() and view.pending_text() == ""


def test_lanes_share_one_axis_and_flags_are_drawn(qtbot):
    view = make_view(qtbot)
    a = build_timeline("#1", [{"n": 1, "started_at": 0.0, "ended_at": 0.1, "status": 202, "error": None}], "delivered", 9)
    b = build_timeline("#2", [{"n": 1, "started_at": 50.0, "ended_at": 50.1, "status": 202, "error": None}], "delivered", 9)
    view.set_lanes([LaneView("#1", a), LaneView("#2", b, "out of order")])
    view.show()
    assert view.axis.start <= 0.0 and view.axis.end >= 50.0
    assert view.marker_pos(0, 0).y() < view.marker_pos(1, 0).y()
    view.grab()  # paints without warnings


def test_hover_text_is_escaped_and_colours_follow_a_dark_palette(qtbot):
    from PySide6.QtGui import QColor, QPalette

    view = make_view(qtbot)
    evil = build_timeline("<b>x</b>", [{"n": 1, "started_at": 0.0, "ended_at": 0.1, "status": None,
                                        "error": "<img src=http://example.com/x.png>", "next_retry_at": 5.0}],
                          "pending", 1.0)
    view.set_timeline(evil)
    text = view.tooltip_at(view.marker_pos(0, 0))
    assert "&lt;img src=http://example.com/x.png&gt;" in text and "<img" not in text
    assert view.tooltip_at(QPointF(1, 1)) == ""
    light = view.colour(DELIVERED).name()
    dark = QPalette(view.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    view.setPalette(dark)
    assert view.colour(DELIVERED).name() != light
    image = view.grab().toImage()
    assert image.pixelColor(2, view.height() - 2).name() == "#1e1e1e"  # the background is the palette's


def test_the_wheel_zooms_around_the_pointer(qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    view = make_view(qtbot)
    view.set_timeline(pending_timeline())
    view.show()
    pos = QPointF(300, 80)
    under = view.axis.t(pos.x() - view.plot_left())
    span = view.axis.end - view.axis.start

    def wheel(delta):
        event = QWheelEvent(pos, view.mapToGlobal(pos), QPoint(), QPoint(0, delta), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        view.wheelEvent(event)
        return event

    assert wheel(120).isAccepted()
    assert abs((view.axis.end - view.axis.start) - span / 1.25) < 1e-6
    assert abs(view.axis.t(pos.x() - view.plot_left()) - under) < 1e-6  # the time under the pointer stays put
    assert view.user_moved
