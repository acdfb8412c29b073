"""`signalscope --self-test` (the packaged binary's smoke test): start the engine
headless on a temporary workspace, trust a key made on the spot, push one SET to
our own receiver, check it was answered 202 and stored valid, then open the window
offscreen on that workspace and check the row shows. Exit 0 when all of it works.

It proves a bundle carries what it needs: aiohttp, jwcrypto, SQLite with FTS5,
the event catalogue, and Qt with a platform plugin."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path


def _signed_set(issuer: str):
    from jwcrypto import jwk, jws

    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="self-test")
    public = json.loads(key.export_public())
    public.update(use="sig", alg="ES256")
    claims = {"iss": issuer, "iat": int(time.time()), "jti": uuid.uuid4().hex,
              "sub_id": {"format": "email", "email": "self-test@example.com"},
              "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked":
                         {"event_timestamp": int(time.time())}}}
    token = jws.JWS(json.dumps(claims))
    token.add_signature(key, alg="ES256", protected=json.dumps({"alg": "ES256", "kid": "self-test", "typ": "secevent+jwt"}))
    return token.serialize(compact=True), {"keys": [public]}


def run_self_test() -> int:
    import httpx

    from app.core.bus import Bus
    from app.core.engine_thread import EngineThread
    from app.core.store.captures import get_capture
    from app.core.store.schema import connect

    workspace = Path(tempfile.mkdtemp(prefix="signalscope-self-test-")) / "self-test.signalscope"
    issuer = "https://self-test.signalscope.invalid"
    token, jwks = _signed_set(issuer)
    engine = EngineThread()
    try:
        info = engine.start_engine({"workspace": workspace}, Bus()).result(20)
        engine.call(lambda e: e.trust_issuer(issuer, jwks=jwks)).result(10)
        answer = httpx.post(info["receiver_url"], content=token,
                            headers={"Content-Type": "application/secevent+jwt"}, timeout=10)
        capture = get_capture(connect(workspace, readonly=True), 1)
    finally:
        engine.close()
    ok = answer.status_code == 202 and capture is not None and capture["verdict"] == "valid"
    shown = _window_shows(workspace) if ok else 0
    ok = ok and shown == 1
    print(json.dumps({"self_test": "ok" if ok else "failed", "status": answer.status_code,
                      "verdict": capture and capture["verdict"], "rows_shown": shown}), flush=True)
    return 0 if ok else 1


def _window_shows(workspace: Path) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("SIGNALSCOPE_CONFIG_DIR", str(workspace.parent / "config"))
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(workspace)
    window.show()
    app.processEvents()
    rows = window.model.rowCount()
    window.close()
    window.deleteLater()
    app.processEvents()
    return rows


if __name__ == "__main__":
    raise SystemExit(run_self_test())
