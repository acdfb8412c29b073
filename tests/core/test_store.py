import asyncio
import sqlite3

import pytest

from app.core.store.captures import CaptureFilter, CaptureRecord, count_captures, fts_query, insert_capture, iter_captures
from app.core.store.schema import SCHEMA_VERSION, WorkspaceError, open_workspace
from app.core.store.writer import StoreWriter


def record(i: int, **kw) -> CaptureRecord:
    base = dict(received_at=1700000000 + i, method="POST", path="/events", headers=[("Content-Type", "application/json")],
                body=b'{"n": %d}' % i, body_size=9, kind="webhook", verdict="unverified",
                report={"verdict": "unverified", "checks": []}, response_status=200)
    base.update(kw)
    return CaptureRecord(**base)


def test_new_workspace_gets_the_current_schema(tmp_path):
    conn = open_workspace(tmp_path / "w.signalscope")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_workspace_is_refused_with_a_sentence(tmp_path):
    path = tmp_path / "w.signalscope"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(WorkspaceError, match="newer Signalscope"):
        open_workspace(path)


def test_not_a_database_is_refused(tmp_path):
    path = tmp_path / "w.signalscope"
    path.write_bytes(b"hello, not sqlite" * 100)
    with pytest.raises(WorkspaceError, match="not a Signalscope workspace"):
        open_workspace(path)


async def test_concurrent_writes_share_commits(tmp_path):
    writer = StoreWriter(open_workspace(tmp_path / "w.signalscope"))
    ids = await asyncio.gather(*(writer.run(insert_capture(record(i))) for i in range(300)))
    assert sorted(s.id for s in ids) == list(range(1, 301))
    assert writer.commits < 300  # group commit happened
    await writer.close()


async def test_a_failing_operation_does_not_lose_its_neighbours(tmp_path):
    path = tmp_path / "w.signalscope"
    writer = StoreWriter(open_workspace(path))

    def broken(conn):
        conn.execute("INSERT INTO captures (id) VALUES (NULL)")  # violates NOT NULL

    results = await asyncio.gather(writer.run(insert_capture(record(1))), writer.run(broken),
                                   writer.run(insert_capture(record(2))), return_exceptions=True)
    assert isinstance(results[1], sqlite3.IntegrityError)
    await writer.close()
    assert count_captures(sqlite3.connect(path)) == 2


async def test_filters_use_event_type_verdict_and_text(tmp_path):
    path = tmp_path / "w.signalscope"
    writer = StoreWriter(open_workspace(path))
    await writer.run(insert_capture(record(1, kind="set", verdict="valid", event_types=["urn:a"], issuer="https://i")))
    await writer.run(insert_capture(record(2, body=b'{"user": "jane.doe@example.com"}')))
    await writer.close()
    conn = sqlite3.connect(path)
    assert [c["id"] for c in iter_captures(conn, CaptureFilter(event_type="urn:a"))] == [1]
    assert [c["id"] for c in iter_captures(conn, CaptureFilter(verdict="valid"))] == [1]
    assert [c["id"] for c in iter_captures(conn, CaptureFilter(text="jane.doe"))] == [2]
    assert [c["id"] for c in iter_captures(conn, CaptureFilter(text='"; DROP TABLE x'))] == []
    assert count_captures(conn, CaptureFilter(issuer="https://i")) == 1


def test_fts_query_quotes_terms():
    assert fts_query('jane "x" OR y*') == '"jane"* "x"* "OR"* "y"*'
    assert fts_query("jane.doe@example.com") == '"jane"* "doe"* "example"* "com"*'


async def test_identical_repeat_of_an_accepted_set_is_answered_202(tmp_path):
    writer = StoreWriter(open_workspace(tmp_path / "w.signalscope"))
    report = {"verdict": "valid", "checks": [{"name": "jti", "status": "pass", "detail": "j1"}]}
    first = await writer.run(insert_capture(record(1, kind="set", jti="j1", issuer="i", body=b"tok", response_status=202, report=report)))
    again = await writer.run(insert_capture(record(2, kind="set", jti="j1", issuer="i", body=b"tok", response_status=400, response_body=b"x", report=report)))
    assert again.repeat_of == first.id
    assert again.response_status == 202 and again.response_body == b""
    other = await writer.run(insert_capture(record(3, kind="set", jti="j1", issuer="i", body=b"different", response_status=400, response_body=b"x", report=report)))
    assert other.repeat_of == first.id and other.response_status == 400
    await writer.close()


def test_a_migration_merged_after_a_higher_one_is_still_applied(tmp_path):
    """A workspace written by a build that had migration 4 but not 3 (merged out of order)."""
    import sqlite3

    from app.core.store.schema import MIGRATIONS, _statements

    path = tmp_path / "between.signalscope"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in sorted(MIGRATIONS):
        if number != 3:
            for statement in _statements(script):
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.close()
    for _ in range(2):  # and opening it again changes nothing
        conn = open_workspace(path)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(captures)")}
        assert {"source", "source_entry"} <= columns
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM transmitters").fetchone()[0] == 0
        conn.close()
