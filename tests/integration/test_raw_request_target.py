"""The request target kept exactly as it arrived (captures.target), over a real receiver on
loopback and real workspace files: the Raw HTTP head, curl, HAR and JSON lines use it, both
round trips keep it, and captures stored before the column existed still render."""

import asyncio
import io
import json
import sqlite3

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from app.core.capture_details import request_head
from app.core.curl import curl_command
from app.core.har import har_entry, write_har
from app.core.importing import import_data
from app.core.set_verification import VerificationSettings
from app.core.store.captures import CaptureRecord, export_event, get_capture, insert_capture, iter_captures
from app.core.store.schema import open_workspace
from app.core.store.writer import StoreWriter
from app.core.trust import TrustStore

RAW = "/hooks/a%2Fb?sig=a%2Bb%3D&x=%20"
JSON_TYPE = {"Content-Type": "application/json"}


async def send(url: str, body: bytes = b'{"type": "ping"}', headers=JSON_TYPE, method: str = "POST") -> int:
    async with aiohttp.ClientSession() as s:  # encoded=True: the client sends the target untouched
        async with s.request(method, URL(url, encoded=True), data=body, headers=headers) as r:
            return r.status


def captures(path):
    return list(iter_captures(sqlite3.connect(path)))


@pytest.fixture
def importer(tmp_path):
    """A second workspace file and a function importing into it."""
    writer = StoreWriter(open_workspace(tmp_path / "copy.signalscope"))

    async def run(data, source="file"):
        return await import_data(data, source, trust=TrustStore(), store=writer.run_sync,
                                 settings=VerificationSettings())

    run.path = tmp_path / "copy.signalscope"
    yield run
    writer._conn.close()


@pytest.fixture
async def echo_server():
    seen = []

    async def handle(request):
        seen.append((request.method, request.raw_path, await request.read()))
        return web.Response(status=204)

    runner = web.ServerRunner(web.Server(handle), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", seen
    await runner.cleanup()


async def captured(engine) -> dict:
    assert await send(engine.receiver.base_url + RAW) == 200
    [capture] = captures(engine.config.workspace)
    return capture


async def test_receiver_stores_the_exact_target_and_keeps_path_and_query_decoded(engine):
    capture = await captured(engine)
    assert capture["target"] == RAW
    assert capture["path"] == "/hooks/a/b"  # decoded, as filters, search and fault rules see it
    decoded = URL("http://h" + RAW, encoded=True)
    assert capture["query"] == decoded.query_string and "%20" not in capture["query"]


async def test_refused_requests_keep_their_target_too(make_engine):
    engine = await make_engine(receiver_token="s3cret")
    assert await send(engine.receiver.base_url + RAW) == 401
    assert await send(engine.receiver.base_url + "/events?a=%2F", method="GET", headers={}, body=b"") == 401
    assert [(c["response_status"], c["target"]) for c in captures(engine.config.workspace)] == [
        (401, RAW), (401, "/events?a=%2F")]


async def test_raw_http_head_shows_the_target_as_it_arrived(engine):
    head = request_head(await captured(engine))
    assert head.splitlines()[0] == f"POST {RAW} HTTP/1.1"


async def test_curl_sends_the_same_target_again_without_encoding_it_twice(engine, echo_server):
    url, seen = echo_server
    capture = await captured(engine)
    command = curl_command(capture, url + "/")
    assert f"{url}{RAW}" in command and "%252F" not in command
    proc = await asyncio.create_subprocess_exec("bash", "-c", command, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert seen == [("POST", RAW, capture["body"])]


async def test_har_url_carries_the_raw_target_and_imports_back_to_it(engine, importer):
    capture = await captured(engine)
    entry = har_entry(capture)
    host = dict(capture["headers"])["Host"]
    assert entry["request"]["url"] == f"http://{host}{RAW}"
    assert {q["name"]: q["value"] for q in entry["request"]["queryString"]} == {"sig": "a+b=", "x": " "}
    out = io.StringIO()
    write_har([capture], out)
    summary = await importer(out.getvalue(), "export.har")
    assert (summary.format, summary.failures) == ("har", [])
    [copy] = captures(importer.path)
    assert (copy["target"], copy["path"], copy["query"]) == (RAW, capture["path"], capture["query"])


async def test_a_foreign_har_gives_its_url_s_raw_path_and_query(importer):
    entry = {"startedDateTime": "2026-01-01T00:00:00Z", "time": 1,
             "request": {"method": "POST", "url": "https://example.com" + RAW, "headers": [],
                         "postData": {"mimeType": "application/json", "text": "{}"}},
             "response": {"status": 200, "headers": [], "content": {"text": ""}}}
    await importer(json.dumps({"log": {"version": "1.2", "entries": [entry]}}), "foreign.har")
    [copy] = captures(importer.path)
    assert (copy["target"], copy["path"]) == (RAW, "/hooks/a/b")


async def test_json_lines_export_has_the_target_and_imports_back_to_it(engine, importer):
    capture = await captured(engine)
    line = export_event(capture)
    assert line["http"]["target"] == RAW and line["http"]["path"] == "/hooks/a/b"
    await importer(json.dumps(line), "events.jsonl")
    [copy] = captures(importer.path)
    assert copy["target"] == RAW and export_event(copy)["http"]["target"] == RAW


def old_row(tmp_path) -> dict:
    """A capture stored before targets were kept: its column is NULL."""
    conn = open_workspace(tmp_path / "old.signalscope")
    record = CaptureRecord(received_at=1700000000.0, method="POST", path="/hooks/a b", query="x=1&y=2",
                           headers=[("Host", "127.0.0.1:8080")], body=b"{}", body_size=2, kind="webhook",
                           verdict="unverified", report={"verdict": "unverified", "checks": []}, response_status=200)
    conn.execute("BEGIN")
    stored = insert_capture(record)(conn)
    conn.execute("COMMIT")
    assert conn.execute("SELECT target FROM captures WHERE id = ?", (stored.id,)).fetchone() == (None,)
    return get_capture(conn, stored.id)


async def test_an_old_row_without_target_renders_and_exports_the_rebuilt_one(tmp_path, echo_server):
    capture = old_row(tmp_path)
    assert capture["target"] is None
    rebuilt = "/hooks/a%20b?x=1&y=2"
    assert export_event(capture)["http"]["target"] == rebuilt
    assert request_head(capture).splitlines()[0] == f"POST {rebuilt} HTTP/1.1"
    assert har_entry(capture)["request"]["url"] == f"http://127.0.0.1:8080{rebuilt}"
    url, seen = echo_server
    proc = await asyncio.create_subprocess_exec("bash", "-c", curl_command(capture, url),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    await asyncio.wait_for(proc.communicate(), 30)
    assert seen == [("POST", rebuilt, b"{}")]


async def test_repeated_response_headers_survive_a_json_lines_round_trip(tmp_path, importer):
    conn = open_workspace(tmp_path / "cookies.signalscope")
    pairs = [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2"), ("Content-Type", "text/plain")]
    record = CaptureRecord(received_at=1700000000.0, method="POST", path="/hooks", headers=[], body=b"x",
                           body_size=1, kind="webhook", verdict="unverified", target="/hooks",
                           report={"verdict": "unverified", "checks": []}, response_status=200,
                           response_headers=pairs, response_body=b"ok")
    conn.execute("BEGIN")
    stored = insert_capture(record)(conn)
    conn.execute("COMMIT")
    line = export_event(get_capture(conn, stored.id))
    assert line["response"]["header_list"] == [list(p) for p in pairs]
    assert line["response"]["headers"]["Set-Cookie"] == "a=1; Path=/, b=2"  # the joined object stays
    await importer(json.dumps(line), "events.jsonl")
    [copy] = captures(importer.path)
    assert copy["response_headers"] == pairs
