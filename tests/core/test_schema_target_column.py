"""Migration 6 (captures.target) on a workspace at schema 5, and the URL built from a raw target."""

import sqlite3

import pytest

from app.core.request_target import origin_form, request_target, target_url
from app.core.store.captures import CaptureRecord, get_capture, insert_capture
from app.core.store.schema import MIGRATIONS, SCHEMA_VERSION, _statements, open_workspace


def test_a_schema_5_workspace_gets_the_target_column(tmp_path):
    path = tmp_path / "v5.signalscope"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in sorted(MIGRATIONS):
        if number <= 5:
            for statement in _statements(script):
                conn.execute(statement)
    conn.execute("PRAGMA user_version = 5")
    conn.execute("INSERT INTO captures (received_at, method, path, query, headers, body, body_size, kind, verdict,"
                 " report) VALUES (1.0, 'POST', '/a/b', 'x=1', '[]', x'', 0, 'webhook', 'unverified', '{}')")
    conn.close()
    for _ in range(2):  # and opening it again changes nothing
        conn = open_workspace(path)
        assert "target" in {row[1] for row in conn.execute("PRAGMA table_info(captures)")}
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 6
        old = get_capture(conn, 1)
        assert old["target"] is None and request_target(old) == "/a/b?x=1"
        conn.close()
    conn = open_workspace(path)
    record = CaptureRecord(received_at=2.0, method="POST", path="/a/b", query="x=1", headers=[], body=b"",
                           body_size=0, kind="webhook", verdict="unverified", report={"verdict": "unverified"},
                           response_status=200, target="/a%2Fb?x=%31")
    conn.execute("BEGIN")
    stored = insert_capture(record)(conn)
    conn.execute("COMMIT")
    assert get_capture(conn, stored.id)["target"] == "/a%2Fb?x=%31"


@pytest.mark.parametrize("base, target, url", [
    ("http://127.0.0.1:9/", "/a%2Fb?s=a%2Bb", "http://127.0.0.1:9/a%2Fb?s=a%2Bb"),
    ("http://[::1]:9/prefix/", "/a%2Fb", "http://[::1]:9/prefix/a%2Fb"),
    ("https://h", "http://proxy.example/x%2F?y=1", "https://h/x%2F?y=1"),  # absolute form: its path and query
])
def test_target_url_appends_the_target_untouched(base, target, url):
    assert target_url(base, target) == url


def test_origin_form_and_an_empty_path():
    assert origin_form("/x?y") == "/x?y"
    assert request_target({"path": "", "query": ""}, empty_path="/events") == "/events"
    assert request_target({"path": "/x", "query": "", "target": ""}) == "/x"
