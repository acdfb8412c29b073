"""`signalscope streams ...` as a CI job runs it: a subprocess against the simulator on loopback."""

import asyncio
import json
import sqlite3
import sys

import pytest

pytestmark = pytest.mark.slow  # each test starts `python -m app streams ...` subprocesses

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


async def streams(*args, timeout=60):
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app", "streams", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, [json.loads(line) for line in out.decode().splitlines()], err.decode()


async def test_create_verify_and_poll_a_stream_from_the_command_line(sim, tmp_path):
    engine, _ = sim
    issuer, token = engine.transmitter.issuer, engine.transmitter.management_token
    ws = str(tmp_path / "ci.signalscope")
    rc, lines, err = await streams("create", "--transmitter", issuer, "--token", token, "--workspace", ws,
                                   "--poll", "--event", "session-revoked", "--description", "ci")
    assert rc == 0 and len(lines) == 1, (rc, lines, err)
    [created] = lines
    assert created["status"] == 201 and created["data"]["events_delivered"] == [SESSION_REVOKED]
    stream_id = created["data"]["stream_id"]
    # the token given once is remembered by the workspace
    rc, [verified], err = await streams("verify", "--transmitter", issuer, "--workspace", ws, "--stream", stream_id)
    assert rc == 0, err
    assert verified["result"] == "confirmed" and verified["origin"] == "poll"
    await engine.transmitter.emit(event_type="session-revoked", subject={"format": "email", "email": "a@b.c"},
                                  stream_id=stream_id)
    rc, lines, err = await streams("poll", "--transmitter", issuer, "--workspace", ws, "--stream", stream_id,
                                   "--ack-valid")
    assert rc == 0, err
    assert [s["verdict"] for s in lines[0]["sets"]] == ["valid"] and lines[1]["acknowledged"]
    conn = sqlite3.connect(ws)
    assert conn.execute("SELECT count(*) FROM captures WHERE origin = 'poll'").fetchone()[0] == 2
    assert conn.execute("SELECT issuer FROM trusted_issuers").fetchall() == [(issuer,)]
    everything = json.dumps(conn.execute("SELECT * FROM transmitter_exchanges").fetchall(), default=str)
    assert token not in everything
    conn.close()
    rc, exchanges, err = await streams("exchanges", "--workspace", ws)
    assert rc == 0, err
    assert [e["operation"] for e in exchanges][:3] == ["discover", "jwks", "create"]
    assert {e["issuer"] for e in exchanges} == {issuer} and all(e["duration_ms"] >= 0 for e in exchanges)
    rc, [known], err = await streams("transmitters", "--workspace", ws)
    assert rc == 0 and known["issuer"] == issuer and known["auth"] == {"kind": "bearer"}


async def test_a_refused_token_is_exit_2_with_one_sentence_and_no_secret(sim):
    engine, _ = sim
    rc, out, err = await streams("list", "--transmitter", engine.transmitter.issuer, "--token", "not-the-token")
    assert rc == 2 and out == []
    assert err.count("\n") == 1 and "refused the credentials (HTTP 401)" in err
    assert "not-the-token" not in err


async def test_an_unreachable_transmitter_is_exit_2(sim):
    rc, out, err = await streams("discover", "--transmitter", "http://127.0.0.1:1")
    assert rc == 2 and out == [] and err.startswith("signalscope: cannot reach the transmitter at http://127.0.0.1:1/")


async def test_verify_of_a_push_stream_watches_the_workspace_a_running_receiver_stores_into(sim):
    engine, subs = sim
    client = await subs.connect(engine.transmitter.issuer)
    config = (await client.create_stream({"delivery": {"method": "urn:ietf:rfc:8935",
                                                       "endpoint_url": engine.receiver.url}})).data
    rc, lines, err = await streams("verify", "--transmitter", engine.transmitter.issuer,
                                   "--token", engine.transmitter.management_token,
                                   "--workspace", str(engine.config.workspace),
                                   "--stream", config["stream_id"], "--timeout", "10")
    # everything the command said, should it fail: an error exit prints no line at all
    assert rc == 0 and len(lines) == 1, (rc, lines, err)
    [verified] = lines
    assert verified["result"] == "confirmed" and verified["origin"] == "push", (verified, err)


async def test_verify_of_a_push_stream_elsewhere_times_out_with_status_1(sim, tmp_path):
    engine, subs = sim
    client = await subs.connect(engine.transmitter.issuer)
    config = (await client.create_stream({"delivery": {"method": "urn:ietf:rfc:8935",
                                                       "endpoint_url": "http://127.0.0.1:9/nowhere"}})).data
    rc, [outcome], err = await streams("verify", "--transmitter", engine.transmitter.issuer,
                                       "--token", engine.transmitter.management_token,
                                       "--workspace", str(tmp_path / "other.signalscope"),
                                       "--stream", config["stream_id"], "--timeout", "0.5")
    assert rc == 1 and outcome["result"] == "timeout" and "within 0.5 s" in outcome["detail"]
