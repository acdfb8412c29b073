"""`signalscope replay` as a CI job runs it: a workspace, a target, JSON lines, an exit status."""

import asyncio
import json
import subprocess
import sys

import aiohttp
import pytest
from aiohttp import web


def replay_cli(*args):
    return subprocess.run([sys.executable, "-m", "app", "replay", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
async def target():
    seen, answers = [], []

    async def handle(request):
        seen.append(await request.read())
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook", seen, answers
    await runner.cleanup()


async def fill(make_engine, tmp_path, n):
    engine = await make_engine(workspace=tmp_path / "r.signalscope", transmitter=False)
    async with aiohttp.ClientSession() as s:
        for i in range(n):
            await s.post(engine.receiver.base_url + "/in", data=json.dumps({"type": "invoice.paid", "n": i}).encode(),
                         headers={"Content-Type": "application/json"})
    await engine.stop()
    return tmp_path / "r.signalscope"


async def test_replay_prints_outcomes_and_exits_0_when_all_delivered(make_engine, tmp_path, target):
    url, seen, _ = target
    ws = await fill(make_engine, tmp_path, 3)
    result = await asyncio.to_thread(replay_cli, "--workspace", str(ws), "--to", url, "--rate", "50")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["ok"] for line in lines[:-1]] == [True, True, True]
    assert lines[-1]["summary"]["succeeded"] == 3
    assert sorted(json.loads(b)["n"] for b in seen) == [0, 1, 2]


async def test_replay_exits_1_when_a_replay_failed(make_engine, tmp_path, target):
    url, _, answers = target
    ws = await fill(make_engine, tmp_path, 2)
    answers += [500]
    result = await asyncio.to_thread(replay_cli, "--workspace", str(ws), "--to", url, "--id", "1", "--id", "2")
    assert result.returncode == 1
    outcomes = [json.loads(line) for line in result.stdout.splitlines()[:-1]]
    assert sorted(o["status"] for o in outcomes) == [200, 500]


async def test_replay_errors_are_one_sentence(tmp_path):
    result = await asyncio.to_thread(replay_cli, "--workspace", str(tmp_path / "none"), "--to", "http://127.0.0.1:9/")
    assert result.returncode == 2 and "no workspace" in result.stderr
    result = await asyncio.to_thread(replay_cli, "--workspace", str(tmp_path), "--to", "ftp://x")
    assert result.returncode == 2 and "not an http(s) URL" in result.stderr


async def test_a_saved_selection_is_replayed_by_name(make_engine, tmp_path, target):
    url, seen, _ = target
    ws = await fill(make_engine, tmp_path, 3)
    saved = await asyncio.to_thread(replay_cli, "--workspace", str(ws), "--to", url, "--id", "2",
                                    "--save-selection", "just two")
    assert saved.returncode == 0, saved.stderr
    again = await asyncio.to_thread(replay_cli, "--workspace", str(ws), "--to", url, "--selection", "just two")
    assert again.returncode == 0 and [json.loads(b)["n"] for b in seen] == [1, 1]
    missing = await asyncio.to_thread(replay_cli, "--workspace", str(ws), "--to", url, "--selection", "nope")
    assert missing.returncode == 2 and "just two" in missing.stderr
