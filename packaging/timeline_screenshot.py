"""Take the README's "Retry timelines" pictures from a real window under Xvfb.

    make screenshot-timelines   # = xvfb-run ... python packaging/timeline_screenshot.py docs

The window runs on a fresh workspace with the real engine. Our receiver's fault
rule answers the simulator's first three pushes with 503; the simulator's retry
policy waits 1 s and 5 s, so after ~7 s delivery #1 shows three failed attempts
and a pending retry counting down, while two later deliveries went straight
through. Saves docs/timelines.png (the window with its Deliveries dock) and
docs/policy-lab.png (the policy lab: Svix against an endpoint down for 3 hours).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

PUSH = "urn:ietf:rfc:8935"
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
SUBJECTS = [{"format": "email", "email": f"{name}@example.com"} for name in ("jane", "omar", "li")]


def save_small(widget, path: Path) -> None:
    """The widget's pixels as an 8-bit palette PNG (a UI has few colours: ~40 KB, not ~170)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    image = widget.grab().toImage().convertToFormat(
        QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.ThresholdDither | Qt.ImageConversionFlag.AvoidDither)
    image.save(str(path), "PNG", 0)


def main(out_dir: str) -> int:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.faults import FaultRules

    out = Path(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix="signalscope-shot-"))
    os.environ["SIGNALSCOPE_CONFIG_DIR"] = str(tmp / "config")
    app = QApplication(sys.argv[:1])
    from app.ui.launch import open_window

    window = open_window(tmp / "demo.signalscope")
    window.resize(1366, 740)
    state = {}

    async def first(engine):
        await engine.set_fault_rules(FaultRules.from_json([{"name": "maintenance", "status": 503, "times": 3}]))
        stream, _ = await engine.transmitter.create({"delivery": {"method": PUSH, "endpoint_url": engine.receiver.url},
                                                     "events_requested": [SESSION_REVOKED]})
        result = await engine.transmitter.emit(event_type="session-revoked", subject=SUBJECTS[0],
                                               stream_id=stream.stream_id)
        return stream.stream_id, result.emitted[0]["delivery_id"]

    async def later(engine):
        for subject in SUBJECTS[1:]:
            await engine.transmitter.emit(event_type="session-revoked", subject=subject, stream_id=state["stream"])

    def start(_info):
        state["stream"], state["delivery"] = window.engine_thread.call(first).result(10)
        QTimer.singleShot(6800, emit_more)

    def emit_more():
        window.engine_thread.call(later).result(10)
        QTimer.singleShot(900, show)

    def show():
        window.show_delivery_timeline(state["delivery"])
        views = window.retry_views
        window.resizeDocks([views.deliveries_dock], [430], Qt.Orientation.Vertical)
        window.select_row(2)  # the third 503, answered by the fault rule
        panel = views.deliveries
        QTimer.singleShot(600, lambda: select(panel))

    def select(panel):
        panel.show_delivery(state["delivery"])
        panel.timeline.select_attempt(0, 2)
        QTimer.singleShot(1200, shoot)

    def shoot():
        save_small(window, out / "timelines.png")
        lab = window.retry_views.open_policy_lab()
        lab.editor.preset.setCurrentIndex(lab.editor.preset.findData("svix"))
        lab.script_preset.setCurrentText("down 3 h, then up")
        lab.simulate()
        QTimer.singleShot(700, lambda: shoot_lab(lab))

    def shoot_lab(lab):
        save_small(lab, out / "policy-lab.png")
        print(f"saved {out / 'timelines.png'} and {out / 'policy-lab.png'}")
        lab.close()
        window.close()
        app.quit()

    window.engine_started.connect(lambda info: QTimer.singleShot(200, lambda: start(info)))
    QTimer.singleShot(40000, app.quit)  # never hang
    app.exec()
    return 0 if (out / "timelines.png").exists() and (out / "policy-lab.png").exists() else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docs")))
