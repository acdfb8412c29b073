"""`signalscope headless` and `export` as a CI job runs them: real processes, real signals."""

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys

import aiohttp
import pytest

SET_TYPE = {"Content-Type": "application/secevent+jwt"}


async def start_headless(workspace, *args):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "headless", "--workspace", str(workspace), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line, (await proc.stderr.read()).decode()
    return proc, json.loads(line)


def export(workspace, *args):
    result = subprocess.run([sys.executable, "-m", "app", "export", "--workspace", str(workspace), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.slow
async def test_ready_line_export_while_running_and_clean_sigterm(tmp_path, peer):
    workspace = tmp_path / "ci.signalscope"
    proc, ready = await start_headless(workspace, "--trust-issuer", peer.issuer, "--audience", "https://receiver.example.com")
    assert ready["event"] == "ready" and ready["workspace"] == str(workspace)
    assert ready["receiver_url"].startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as s:
        async with s.post(ready["receiver_url"], data=peer.set(), headers=SET_TYPE) as r:
            assert r.status == 202
    lines = await asyncio.to_thread(export, workspace)  # while headless still runs
    assert [(line["kind"], line["verification"]["verdict"]) for line in lines] == [("set", "valid")]
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 15) == 0
    assert (await proc.stdout.read()) == b""  # exactly one line on stdout


async def test_export_of_a_missing_workspace_fails_with_a_sentence(tmp_path):
    result = subprocess.run([sys.executable, "-m", "app", "export", "--workspace", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no workspace" in result.stderr


async def test_port_in_use_fails_with_a_sentence(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "app", "headless", "--workspace",
                                         str(tmp_path / "p.signalscope"), "--receiver-port", str(port)],
                                         capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
async def test_kill_9_during_ingest_loses_no_acknowledged_set(tmp_path, peer):
    workspace = tmp_path / "crash.signalscope"
    proc, ready = await start_headless(workspace, "--trust-issuer", peer.issuer)
    acknowledged: list[str] = []
    tokens = [peer.sign(peer.claims(jti=f"jti-{i}")) for i in range(3000)]
    stop = asyncio.Event()

    async def pusher(session, mine):
        for jti, token in mine:
            if stop.is_set():
                return
            try:
                async with session.post(ready["receiver_url"], data=token, headers=SET_TYPE) as r:
                    if r.status == 202:
                        acknowledged.append(jti)
            except aiohttp.ClientError:
                return

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
        work = [(f"jti-{i}", t) for i, t in enumerate(tokens)]
        tasks = [asyncio.create_task(pusher(session, work[k::16])) for k in range(16)]
        while len(acknowledged) < 400:
            await asyncio.sleep(0.01)
            assert not all(t.done() for t in tasks), "pushers ended before the kill"
        os.kill(proc.pid, signal.SIGKILL)
        stop.set()
        await asyncio.gather(*tasks)
    await proc.wait()
    assert len(acknowledged) >= 400
    stored = {row[0] for row in sqlite3.connect(workspace).execute("SELECT jti FROM captures WHERE response_status = 202")}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged SETs lost"
