"""`signalscope export --format har`, `import`, `curl`, `compare` as a user or CI runs them."""

import json
import sqlite3
import subprocess
import sys
import time

import aiohttp

from app.core.store.captures import export_event, iter_captures
from app.core.store.schema import open_workspace

SET_TYPE = {"Content-Type": "application/secevent+jwt"}


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "app", *map(str, args)], capture_output=True, text=True,
                          input=stdin, timeout=60)


async def capture_two(engine, peer):
    async with aiohttp.ClientSession() as s:
        for body, headers in ((peer.set(), SET_TYPE), (b'{"type": "invoice.paid"}', {"Content-Type": "application/json"})):
            async with s.post(engine.receiver.url, data=body, headers=headers) as r:
                assert r.status in (200, 202)


def trusting_workspace(path, peer):
    conn = open_workspace(path)
    conn.execute("INSERT INTO trusted_issuers (issuer, jwks, added_at) VALUES (?, ?, ?)",
                 (peer.issuer, json.dumps(peer.jwks), time.time()))
    conn.close()
    return path


async def test_export_har_then_import_prints_a_summary_and_exits_0(engine, peer, tmp_path):
    await capture_two(engine, peer)
    exported = cli("export", "--workspace", engine.config.workspace, "--format", "har")
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(exported.stdout)["log"]["entries"]) == 2
    (tmp_path / "x.har").write_text(exported.stdout)
    target = trusting_workspace(tmp_path / "target.signalscope", peer)
    result = cli("import", "--workspace", target, tmp_path / "x.har")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["file"], summary["format"], summary["imported"], summary["failures"]) == ("x.har", "har", 2, [])
    assert [c["verdict"] for c in iter_captures(sqlite3.connect(target))] == ["valid", "unverified"]


async def test_default_export_lines_are_unchanged_and_filters_select(engine, peer):
    await capture_two(engine, peer)
    result = cli("export", "--workspace", engine.config.workspace, "--kind", "events")
    expected = [json.dumps(export_event(c)) for c in iter_captures(sqlite3.connect(engine.config.workspace))]
    assert result.stdout.splitlines() == expected and "source" not in json.loads(expected[0])
    only_sets = cli("export", "--workspace", engine.config.workspace, "--kind-filter", "set")
    assert [json.loads(line)["kind"] for line in only_sets.stdout.splitlines()] == ["set"]
    by_text = cli("export", "--workspace", engine.config.workspace, "--filter-text", "invoice")
    assert [json.loads(line)["kind"] for line in by_text.stdout.splitlines()] == ["webhook"]


async def test_import_exit_status_says_whether_everything_came_in(peer, tmp_path):
    target = trusting_workspace(tmp_path / "t.signalscope", peer)
    (tmp_path / "mixed.jwt").write_text(peer.set() + "\nnot a token\n")
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01junk")
    partly = cli("import", "--workspace", target, tmp_path / "mixed.jwt")
    assert partly.returncode == 1
    assert json.loads(partly.stdout)["failures"][0]["entry"] == "line 2"
    nothing = cli("import", "--workspace", target, tmp_path / "junk.bin", tmp_path / "missing.jwt")
    assert nothing.returncode == 2 and nothing.stderr.startswith("signalscope: nothing could be imported")
    assert [json.loads(line)["error"] is not None for line in nothing.stdout.splitlines()] == [True, True]
    pasted = cli("import", "--workspace", target, "-", stdin=peer.set())
    assert pasted.returncode == 0 and json.loads(pasted.stdout)["file"] == "stdin"


async def test_compare_and_curl_commands(engine, peer):
    await capture_two(engine, peer)
    compared = cli("compare", "--workspace", engine.config.workspace, 1, 2)
    assert compared.returncode == 0, compared.stderr
    diff = json.loads(compared.stdout)
    assert (diff["a"], diff["b"], diff["same"]) == (1, 2, False)
    assert any(d["pointer"] == "/content-type" and d["change"] == "changed" for d in diff["headers"])
    curl = cli("curl", "--workspace", engine.config.workspace, 1, "--to", "http://127.0.0.1:9999")
    assert curl.returncode == 0 and " http://127.0.0.1:9999/events " in curl.stdout
    missing = cli("curl", "--workspace", engine.config.workspace, 99)
    assert missing.returncode == 2 and "no capture #99" in missing.stderr


def test_readers_refuse_a_file_that_is_not_a_workspace_in_one_sentence(tmp_path):
    not_a_database = tmp_path / "notes.signalscope"
    not_a_database.write_text("not sqlite\n" * 20)
    other_app = tmp_path / "other.db"
    sqlite3.connect(other_app).execute("CREATE TABLE t (x)").connection.close()
    for path in (not_a_database, other_app):
        for args in (("export", "--workspace", path), ("export", "--workspace", path, "--kind", "deliveries"),
                     ("curl", "--workspace", path, "1"), ("compare", "--workspace", path, "1", "2")):
            result = cli(*args)
            assert result.returncode == 2, (args, result.stderr)
            assert "is not a Signalscope workspace" in result.stderr and "Traceback" not in result.stderr


def test_readers_bring_a_workspace_from_an_older_version_up_to_date(tmp_path):
    from app.core.store.schema import MIGRATIONS, SCHEMA_VERSION, _statements

    path = tmp_path / "old.signalscope"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in sorted(MIGRATIONS):
        if number <= 5:  # before the raw request target column
            for statement in _statements(script):
                conn.execute(statement)
    conn.execute("PRAGMA user_version = 5")
    conn.execute("INSERT INTO captures (received_at, method, path, query, headers, body, body_size, kind, verdict,"
                 " report) VALUES (1.0, 'POST', '/hooks', 'a=1', '[]', x'7b7d', 2, 'webhook', 'unverified', '{}')")
    conn.close()
    result = cli("export", "--workspace", path)
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(text) for text in result.stdout.splitlines()]
    assert line["http"]["target"] == "/hooks?a=1" and line["http"]["body"] == "{}"
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
