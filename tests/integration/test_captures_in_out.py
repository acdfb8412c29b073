"""Captures in and out: HAR and JSON lines export/import, .jwt files, curl, compare.

Captures are made by the real receiver over loopback (SETs signed by PyJWT);
imports go into a second, real workspace whose trust comes from the same peer."""

import asyncio
import base64
import io
import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from app.core.compare import compare_captures
from app.core.exporting import export_captures
from app.core.curl import curl_command
from app.core.har import har_entry, write_har
from app.core.importing import import_data
from app.core.set_verification import VerificationSettings
from app.core.store.captures import CaptureFilter, export_event, get_capture, iter_captures
from app.core.store.schema import open_workspace
from app.core.store.writer import StoreWriter
from app.core.trust import TrustStore

DATA = Path(__file__).resolve().parent.parent / "data"
SET_TYPE = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}
AUDIENCE = "https://receiver.example.com"


async def post(url, body, headers):
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=body, headers=headers) as r:
            return r.status


def captures(path):
    return list(iter_captures(sqlite3.connect(path)))


@pytest.fixture
def target(tmp_path, peer):
    """A second workspace to import into, trusting the same peer, and a function that imports."""
    writer = StoreWriter(open_workspace(tmp_path / "target.signalscope"))
    trust = TrustStore()
    trust.trust(peer.issuer, jwks=peer.jwks)

    async def run(data, source="file"):
        return await import_data(data, source, trust=trust, store=writer.run_sync,
                                 settings=VerificationSettings(audiences=(AUDIENCE,)))

    run.path = tmp_path / "target.signalscope"
    yield run
    writer._conn.close()


async def capture_some(engine, peer):
    """A valid SET with a query, an invalid SET, and a webhook whose body is not UTF-8."""
    base = engine.receiver.base_url
    assert await post(base + "/events?tenant=acme&x=%20y", peer.set(), {**SET_TYPE, "X-Trace": "a", "x-trace": "b"}) == 202
    assert await post(base + "/events", peer.set(aud="https://elsewhere.example.com"), SET_TYPE) == 400
    assert await post(base + "/hooks/bin", b"\xff\xfe\x00binary\x80", {"Content-Type": "application/octet-stream"}) == 200
    return captures(engine.config.workspace)


def same_request(a, b):
    keys = ("method", "path", "query", "headers", "body", "verdict", "kind", "response_status")
    return {k: a[k] for k in keys} == {k: b[k] for k in keys}


async def test_har_we_export_imports_back_equal(engine, peer, target):
    originals = await capture_some(engine, peer)
    out = io.StringIO()
    assert write_har(originals, out) == 3
    document = json.loads(out.getvalue())
    assert document["log"]["version"] == "1.2" and document["log"]["creator"]["name"] == "Signalscope"
    summary = await target(out.getvalue(), "export.har")
    assert (summary.format, len(summary.ids), summary.failures) == ("har", 3, [])
    imported = captures(target.path)
    for original, copy in zip(originals, imported):
        assert same_request(original, copy), (original["id"], copy["id"])
        assert copy["origin"] == "import" and copy["source"] == "export.har"
    assert [c["source_entry"] for c in imported] == ["entries[0]", "entries[1]", "entries[2]"]
    assert imported[0]["verdict"] == "valid" and imported[1]["verdict"] == "invalid"


async def test_non_utf8_body_round_trips_through_json_lines_as_base64(engine, peer, target):
    originals = await capture_some(engine, peer)
    lines = "\n".join(json.dumps(export_event(c)) for c in originals)
    assert json.loads(lines.splitlines()[2])["http"]["body_encoding"] == "base64"
    summary = await target(lines, "events.jsonl")
    assert (summary.format, len(summary.ids)) == ("jsonl", 3)
    imported = captures(target.path)
    assert imported[2]["body"] == b"\xff\xfe\x00binary\x80"
    assert all(same_request(a, b) for a, b in zip(originals, imported))


async def test_har_from_browser_devtools_imports(target):
    summary = await target((DATA / "devtools-export.har").read_bytes(), "devtools-export.har")
    assert (summary.format, len(summary.ids), summary.failures) == ("har", 2, [])
    sent_set, status_call = captures(target.path)
    assert sent_set["kind"] == "set" and sent_set["path"] == "/events" and sent_set["response_status"] == 202
    assert sent_set["set_claims"]["jti"] == "4f1c2d8e9a7b4c3e8d2f1a0b9c8d7e6f"
    checks = {c["name"]: c["status"] for c in sent_set["report"]["checks"]}
    assert checks["jws_parse"] == "pass" and checks["issuer"] == "fail"  # its issuer is not trusted here
    assert status_call["method"] == "GET" and status_call["query"] == "stream_id=f67e39a0a4d34d56b3aa1bc4cff0069f&verbose=1"
    assert not any(name.startswith(":") for name, _ in status_call["headers"])  # HTTP/2 pseudo-headers dropped


async def test_bad_json_line_in_the_middle_is_reported_and_the_rest_imported(engine, peer, target):
    originals = await capture_some(engine, peer)
    lines = [json.dumps(export_event(c)) for c in originals]
    lines.insert(1, '{"id": 7, "http": {"method": "POST",')
    summary = await target("\n".join(lines))
    assert len(summary.ids) == 3
    [failure] = summary.failures
    assert failure.entry == "line 2" and "not JSON" in failure.reason


async def test_har_entry_without_method_is_reported_and_the_rest_imported(target):
    document = json.loads((DATA / "devtools-export.har").read_text())
    del document["log"]["entries"][0]["request"]["method"]
    summary = await target(json.dumps(document))
    assert len(summary.ids) == 1
    assert [(f.entry, f.reason) for f in summary.failures] == [("entries[0]", "request.method is missing")]


async def test_jwt_file_with_garbage_lines_imports_the_tokens(peer, target):
    text = "\n".join([peer.set(), "hello world", "", "# a comment", "a.b", peer.set()]) + "\n"
    summary = await target(text, "sets.jwt")
    assert (summary.format, len(summary.ids)) == ("jwt", 2)
    assert [f.entry for f in summary.failures] == ["line 2", "line 5"]
    first, second = captures(target.path)
    assert first["verdict"] == second["verdict"] == "valid"
    assert first["origin"] == "import" and first["source_entry"] == "line 1" and first["response_status"] is None


async def test_pasted_set_is_verified_like_a_live_one(peer, target):
    summary = await target("  " + peer.set(aud="https://elsewhere.example.com") + "\n", "pasted")
    [capture] = captures(target.path)
    assert len(summary.ids) == 1 and capture["verdict"] == "invalid"
    assert capture["report"]["err"] == "invalid_audience"


async def test_unreadable_file_is_one_sentence(target):
    summary = await target(b"\x00\x01\x02binary")
    assert summary.error and "binary" in summary.error and summary.ids == []


# -- curl -----------------------------------------------------------------------

@pytest.fixture
async def echo_server():
    seen = []

    async def handle(request):
        seen.append((request.method, (request.path, request.query_string), list(request.raw_headers), await request.read()))
        return web.Response(status=204)

    runner = web.ServerRunner(web.Server(handle), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", seen
    await runner.cleanup()


async def run_shell(command: str):
    proc = await asyncio.create_subprocess_exec("bash", "-c", command, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()


@pytest.mark.parametrize("which", [0, 2], ids=["set-with-query", "binary-webhook"])
async def test_curl_command_reproduces_body_bytes_and_headers(engine, peer, echo_server, which):
    url, seen = echo_server
    capture = (await capture_some(engine, peer))[which]
    await run_shell(curl_command(capture, url))
    [(method, path_and_query, raw_headers, body)] = seen
    assert method == capture["method"] and body == capture["body"]
    assert path_and_query == (capture["path"], capture["query"])
    sent = [(k.decode(), v.decode()) for k, v in raw_headers if k.lower() not in (b"host", b"content-length")]
    kept = [(k, v) for k, v in capture["headers"] if k.lower() not in ("host", "content-length")]
    assert sent == kept


def test_curl_quotes_what_came_from_the_network():
    capture = {"method": "POST", "path": "/x", "query": "", "kind": "webhook", "body": b"$(touch /tmp/pwned) 'q'",
               "headers": [("X-Evil", "`id`; rm -rf ~")]}
    command = curl_command(capture, "http://127.0.0.1:9")
    assert "'$(touch /tmp/pwned) '\"'\"'q'\"'\"''" in command and "'X-Evil: `id`; rm -rf ~'" in command


# -- compare --------------------------------------------------------------------

async def test_compare_finds_changed_claim_added_header_and_removed_nested_member(engine, peer):
    base = engine.receiver.url
    claims = peer.claims(sub_id={"format": "complex", "user": {"format": "email", "email": "a@example.com"},
                                 "tenant": {"format": "opaque", "id": "t1"}})
    assert await post(base, peer.sign(claims), SET_TYPE) == 202
    changed = json.loads(json.dumps(claims))
    changed["jti"] = "another"
    changed["txn"] = "other-txn"
    del changed["sub_id"]["tenant"]
    assert await post(base, peer.sign(changed), {**SET_TYPE, "X-Retry": "1"}) == 202
    a, b = captures(engine.config.workspace)
    diff = compare_captures(a, b)
    by_pointer = {d["pointer"]: d for d in diff["claims"]}
    assert by_pointer["/txn"] == {"pointer": "/txn", "path": ["txn"], "change": "changed", "a": "8675309", "b": "other-txn"}
    assert by_pointer["/sub_id/tenant"]["change"] == "removed" and "b" not in by_pointer["/sub_id/tenant"]
    assert {"pointer": "/x-retry", "path": ["x-retry"], "change": "added", "b": "1"} in diff["headers"]
    assert diff["same"] is False and compare_captures(a, a)["same"] is True


def test_compare_event_uris_keep_their_dots_and_slashes():
    uri = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
    a = {"set_claims": {"events": {uri: {"reason": "x"}}}}
    b = {"set_claims": {"events": {uri: {}}}}
    [d] = compare_captures(a, b)["claims"]
    assert d["path"] == ["events", uri, "reason"] and d["change"] == "removed"
    assert d["pointer"] == "/events/https:~1~1schemas.openid.net~1secevent~1caep~1event-type~1session-revoked/reason"


def test_get_capture_exposes_import_provenance(tmp_path):
    conn = open_workspace(tmp_path / "w.signalscope")
    assert {"source", "source_entry"} <= {r[1] for r in conn.execute("PRAGMA table_info(captures)")}
    assert get_capture(conn, 1) is None


def test_har_entry_survives_a_host_header_that_is_no_host_and_a_bare_token():
    capture = {"id": 1, "origin": "import", "received_at": 1.5, "method": "POST", "path": "", "query": "a=b c",
               "headers": [("Host", "not a host/ at all")], "body": b"x", "body_size": 1, "body_truncated": False,
               "peer": None, "content_type": None, "kind": "set", "response_status": None, "response_headers": [],
               "response_body": None, "duration_ms": None, "report": {}, "verdict": "unverified", "set_header": None,
               "set_claims": None, "jti": None, "issuer": None, "event_types": [], "subject": None, "repeat_of": None,
               "rule": None}
    entry = har_entry(capture)
    assert entry["request"]["url"] == "http://localhost/?a=b+c" and entry["response"]["status"] == 0


async def test_export_writes_only_the_selection_in_either_format(engine, peer):
    await capture_some(engine, peer)
    conn = sqlite3.connect(engine.config.workspace)
    lines, har = io.StringIO(), io.StringIO()
    assert export_captures(conn, lines, selection=CaptureFilter(verdict="invalid")) == 1
    assert json.loads(lines.getvalue())["verification"]["verdict"] == "invalid"
    assert export_captures(conn, har, fmt="har", selection=CaptureFilter(kind="webhook")) == 1
    [entry] = json.loads(har.getvalue())["log"]["entries"]
    assert entry["request"]["postData"]["encoding"] == "base64" and entry["_signalscope"]["kind"] == "webhook"


async def test_the_fault_rule_that_answered_comes_back_from_json_lines(engine, peer, target):
    originals = await capture_some(engine, peer)
    line = export_event(originals[2])
    line["rule"], line["response"]["status"] = "down twice", 503
    await target(json.dumps(line))
    [copy] = captures(target.path)
    assert (copy["rule"], copy["response_status"]) == ("down twice", 503)


async def test_import_through_the_engines_writer_commits_on_its_loop(engine, peer):
    summary = await import_data(peer.set() + "\n", "sets.jwt", trust=engine.trust, store=engine.writer.run)
    [capture] = captures(engine.config.workspace)
    assert summary.ids == [capture["id"]] and capture["verdict"] == "valid" and capture["origin"] == "import"


def test_compare_two_json_webhooks_member_by_member():
    a = {"kind": "webhook", "body": b'{"type": "invoice.paid", "data": {"amount": 100}}'}
    b = {"kind": "webhook", "body": b'{"type": "invoice.paid", "data": {"amount": 250}}'}
    assert compare_captures(a, b)["body_json"] == [
        {"pointer": "/data/amount", "path": ["data", "amount"], "change": "changed", "a": 100, "b": 250}]
