"""The simulator's management token can be pasted after `--token` on a command line."""

import asyncio
import json
import subprocess
import sys

from app.core.transmitter import service


def test_a_new_management_token_never_starts_with_a_dash(monkeypatch):
    tokens = iter(["-looks-like-an-option", "--also-one", "fine-token"])
    monkeypatch.setattr(service.secrets, "token_urlsafe", lambda n: next(tokens))
    assert service.new_management_token() == "fine-token"


async def test_emit_takes_the_token_even_when_the_first_draw_started_with_a_dash(make_sim, tmp_path, monkeypatch):
    real, draws = service.secrets.token_urlsafe, ["-mIwTwwsyVCz-BKlas_JnyK2RI8KGscApPYJ7oLg5zQ"]
    monkeypatch.setattr(service.secrets, "token_urlsafe", lambda n=None: draws.pop() if draws else real(n))
    sim = await make_sim(workspace=tmp_path / "t.signalscope")
    monkeypatch.undo()
    token = sim.transmitter.management_token
    assert not draws and not token.startswith("-")
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app", "emit", "--transmitter", sim.transmitter.base_url,
                         "--token", token, "--event", "session-revoked",
                         "--subject", '{"format": "email", "email": "jane@example.com"}'],
        capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 1), result.stderr  # 1: no stream wants it; the command line was accepted
    assert "emitted" in json.loads(result.stdout)
