"""Fault rules on the live receiver: what a sender sees, and what the capture records."""

import asyncio
import json
import sqlite3
import subprocess
import sys

import aiohttp

from app.core.faults import FaultRules

SET_TYPE = {"Content-Type": "application/secevent+jwt"}


async def post(url, body, headers=SET_TYPE):
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=body, headers=headers) as r:
            return r.status, await r.read(), r.headers


def rows(engine):
    return sqlite3.connect(engine.config.workspace).execute("SELECT response_status, rule, verdict FROM captures ORDER BY id").fetchall()


async def test_503_twice_then_the_same_set_is_accepted(engine, peer):
    await engine.set_fault_rules(FaultRules.from_json([{"name": "down", "status": 503, "times": 2}]))
    token = peer.set()
    statuses = [(await post(engine.receiver.url, token))[0] for _ in range(3)]
    assert statuses == [503, 503, 202]
    assert rows(engine) == [(503, "down", "valid"), (503, "down", "valid"), (202, None, "valid")]


async def test_429_with_retry_after(engine, peer):
    await engine.set_fault_rules(FaultRules.from_json([{"name": "throttle", "retry_after": 2}]))
    status, _, headers = await post(engine.receiver.url, peer.set())
    assert status == 429 and headers["Retry-After"] == "2"


async def test_close_connection_is_a_transport_error_and_recorded(engine, peer):
    await engine.set_fault_rules(FaultRules.from_json([{"name": "drop", "close": True}]))
    try:
        await post(engine.receiver.url, peer.set())
    except aiohttp.ClientError:
        pass
    else:
        raise AssertionError("the connection should have been closed without an answer")
    assert rows(engine) == [(None, "drop", "valid")]


async def test_rule_matching_a_webhook_type_field(engine):
    await engine.set_fault_rules(FaultRules.from_json([{"name": "gone", "match": {"event_type": "invoice.paid"}, "status": 410}]))
    assert (await post(engine.receiver.url, b'{"type": "invoice.paid"}', {"Content-Type": "application/json"}))[0] == 410
    assert (await post(engine.receiver.url, b'{"type": "invoice.created"}', {"Content-Type": "application/json"}))[0] == 200


async def test_rules_are_saved_in_the_workspace(make_engine, tmp_path):
    path = tmp_path / "rules.signalscope"
    engine = await make_engine(workspace=path)
    await engine.set_fault_rules(FaultRules.from_json([{"name": "slow", "delay_ms": 10}]))
    await engine.stop()
    again = await make_engine(workspace=path)
    assert [r.name for r in again.receiver.faults.rules] == ["slow"]


async def test_headless_fault_rules_file_and_bad_file(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"name": "teapot", "status": 418}]))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app", "headless", "--workspace", str(tmp_path / "h.signalscope"),
                                                "--fault-rules", str(rules), stdout=asyncio.subprocess.PIPE)
    ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
    assert (await post(ready["receiver_url"], b"{}", {"Content-Type": "application/json"}))[0] == 418
    proc.terminate()
    await proc.wait()
    rules.write_text('[{"name": "x", "status": 9}]')
    result = subprocess.run([sys.executable, "-m", "app", "headless", "--workspace", str(tmp_path / "h.signalscope"),
                             "--fault-rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "rule 'x'" in result.stderr and "status" in result.stderr


async def test_a_foreign_senders_retry_schedule_is_measured(engine, peer):
    from app.core.timeline import observed_groups, observed_timeline

    await engine.set_fault_rules(FaultRules.from_json([{"name": "down", "status": 503, "times": 2}]))
    token = peer.set()
    for pause in (0.0, 0.2, 0.4):
        await asyncio.sleep(pause)
        await post(engine.receiver.url, token)
    for _ in range(2):  # a Standard Webhooks sender retrying one message
        await post(engine.receiver.url, b'{"type": "x"}', {"Content-Type": "application/json", "webhook-id": "msg_1"})
    conn = sqlite3.connect(engine.config.workspace)
    groups = {key: count for key, count, _ in observed_groups(conn)}
    jti = conn.execute("SELECT jti FROM captures WHERE kind = 'set' LIMIT 1").fetchone()[0]
    assert groups == {jti: 3, "webhook-id:msg_1": 2}
    timeline = observed_timeline(conn, jti)
    assert [a.status for a in timeline.attempts] == [503, 503, 202]
    first_gap, second_gap = (g.seconds for g in timeline.gaps)
    assert 0.19 <= first_gap < 0.19 + 0.5 and 0.39 <= second_gap < 0.39 + 0.5
    assert second_gap > first_gap
    assert timeline.attempts[0].detail["rule"] == "down"
