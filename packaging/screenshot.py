"""Take the README's screenshot of the real window, with captures in it.

Run under Xvfb (a real xcb window, not the offscreen platform):
    make screenshot        # = xvfb-run -s "-screen 0 1366x768x24" python packaging/screenshot.py docs/screenshot.png
It starts the window on a fresh workspace, pushes a few SETs (signed by PyJWT, the
test peer) and webhooks to its receiver, selects one and saves the window's pixels.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main(out: str, row: int = 1, tab: int = 0, theme: str = "system") -> int:
    import httpx
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from peers import CREDENTIAL_CHANGE, PeerIssuer

    tmp = Path(tempfile.mkdtemp(prefix="signalscope-shot-"))
    os.environ["SIGNALSCOPE_CONFIG_DIR"] = str(tmp / "config")
    app = QApplication(sys.argv[:1])
    from app.ui.launch import open_window

    window = open_window(tmp / "demo.signalscope")
    window.resize(1366, 740)
    if theme != "system":  # as Settings ▸ Theme does, once the workspace (and its own theme) is open
        from app.ui import preferences

        window.engine_started.connect(lambda _: preferences.apply_theme(theme))
    peer = PeerIssuer(issuer="https://idp.example.com")
    rogue = PeerIssuer(issuer="https://unknown-idp.example.net")

    def push():
        engine = window.engine_thread.engine if window.engine_thread else None
        if engine is None:
            QTimer.singleShot(100, push)
            return
        window.engine_thread.call(lambda e: e.trust_issuer(peer.issuer, jwks=peer.jwks)).result(5)
        url = engine.receiver.url
        set_type = {"Content-Type": "application/secevent+jwt"}
        bodies = [
            (peer.set(), set_type),
            (peer.set(event=CREDENTIAL_CHANGE, payload={"credential_type": "password", "change_type": "update",
                                                         "event_timestamp": int(time.time())},
                      sub_id={"format": "complex", "user": {"format": "email", "email": "jane@example.com"},
                              "device": {"format": "iss_sub", "iss": peer.issuer, "sub": "laptop-42"}}), set_type),
            (rogue.set(), set_type),
            (b'{"type": "invoice.paid", "data": {"id": "in_123", "amount": 4200}}', {"Content-Type": "application/json"}),
            (peer.sign(peer.claims(), headers={"kid": "rotated-away"}), set_type),
            (peer.set(aud="https://someone-else.example.com", jti=None), set_type),
            (peer.set(), set_type),
        ]
        with httpx.Client(timeout=5) as client:
            for body, headers in bodies:
                client.post(url, content=body, headers=headers)
        QTimer.singleShot(600, select)

    def select():
        window.select_row(row)
        window.details.setCurrentIndex(tab)
        QTimer.singleShot(400, shoot)

    def shoot():
        window.grab().save(out)
        print(f"saved {out}")
        window.close()
        app.quit()

    window.engine_started.connect(lambda _: QTimer.singleShot(100, push))
    QTimer.singleShot(20000, app.quit)  # never hang
    app.exec()
    return 0 if Path(out).exists() else 1


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--row", type=int, default=1, help="the capture to select")
    parser.add_argument("--tab", type=int, default=0, help="0 Decoded, 1 Verification, 2 Raw HTTP")
    parser.add_argument("--theme", choices=["system", "light", "dark"], default="system")
    args = parser.parse_args()
    raise SystemExit(main(args.out, args.row, args.tab, args.theme))
