"""The simulator as a CI job drives it: headless, `signalscope emit`, `export --kind deliveries`."""

import asyncio
import json
import signal
import subprocess
import sys

import pytest

from ssf_client import CAEP, PUSH, SsfClient
from test_headless import export, start_headless


def emit_cli(*args):
    return subprocess.run([sys.executable, "-m", "app", "emit", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.slow
async def test_ci_job_creates_a_stream_emits_and_exports_the_delivery(tmp_path):
    workspace = tmp_path / "ci.signalscope"
    proc, ready = await start_headless(workspace, "--audience", "https://receiver.example.com")
    try:
        assert ready["transmitter_url"].startswith("http://127.0.0.1:")
        assert ready["transmitter_issuer"] and ready["management_token"]
        client = SsfClient(ready["transmitter_issuer"], ready["management_token"])
        await client.discover()
        config = (await client.create({"delivery": {"method": PUSH, "endpoint_url": ready["receiver_url"]},
                                       "events_requested": [CAEP + "session-revoked"]})).json()
        await client.close()
        result = await asyncio.to_thread(
            emit_cli, "--transmitter", ready["transmitter_url"], "--token", ready["management_token"],
            "--stream", config["stream_id"], "--event", "session-revoked",
            "--subject", '{"format": "email", "email": "jane@example.com"}', "--claims", '{"initiating_entity": "admin"}')
        assert result.returncode == 0, result.stderr
        [emitted] = json.loads(result.stdout)["emitted"]
        deadline = asyncio.get_running_loop().time() + 60  # generous: CI machines are shared
        while True:
            deliveries = await asyncio.to_thread(export, workspace, "--kind", "deliveries")
            if (deliveries and deliveries[0]["state"] == "delivered") or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
        [line] = deliveries
        assert line["jti"] == emitted["jti"] and line["stream_id"] == config["stream_id"]
        assert line["endpoint"] == ready["receiver_url"] and line["state"] == "delivered"
        [attempt] = line["attempts"]
        assert attempt["n"] == 1 and attempt["status"] == 202 and attempt["error"] is None
        assert attempt["latency_ms"] > 0 and attempt["next_retry_at"] is None and attempt["started_at"].endswith("Z")
        [event] = await asyncio.to_thread(export, workspace)
        assert event["jti"] == emitted["jti"] and event["verification"]["verdict"] == "valid"
        assert event["set"]["claims"]["events"][CAEP + "session-revoked"]["initiating_entity"] == "admin"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0


async def test_emit_without_a_simulator_fails_with_a_sentence():
    result = await asyncio.to_thread(emit_cli, "--transmitter", "http://127.0.0.1:9", "--token", "t", "--event",
                                     "session-revoked", "--subject", "{}")
    assert result.returncode == 2 and "cannot reach" in result.stderr and "Traceback" not in result.stderr


async def test_emit_with_bad_subject_json_fails_with_a_sentence():
    result = await asyncio.to_thread(emit_cli, "--transmitter", "http://127.0.0.1:9", "--token", "t", "--event",
                                     "session-revoked", "--subject", "{nope")
    assert result.returncode == 2 and "--subject is not valid JSON" in result.stderr
