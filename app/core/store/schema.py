"""Workspace schema and migrations.

Each migration is a numbered script; `open_workspace` applies those above the
file's `PRAGMA user_version` in one transaction each. Add new tables by appending
a migration, never by editing an old one (a user's workspace may be at any version).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import platformdirs

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE captures (
            id               INTEGER PRIMARY KEY,
            received_at      REAL NOT NULL,
            origin           TEXT NOT NULL DEFAULT 'push',
            method           TEXT NOT NULL,
            path             TEXT NOT NULL,
            query            TEXT NOT NULL DEFAULT '',
            headers          TEXT NOT NULL,
            body             BLOB NOT NULL,
            body_size        INTEGER NOT NULL,
            body_truncated   INTEGER NOT NULL DEFAULT 0,
            peer             TEXT,
            content_type     TEXT,
            kind             TEXT NOT NULL,
            response_status  INTEGER,
            response_headers TEXT,
            response_body    BLOB,
            jti              TEXT,
            delivery_key     TEXT,
            issuer           TEXT,
            event_types      TEXT NOT NULL DEFAULT '[]',
            subject          TEXT,
            verdict          TEXT NOT NULL,
            report           TEXT NOT NULL,
            set_header       TEXT,
            set_claims       TEXT,
            repeat_of        INTEGER,
            rule             TEXT,
            duration_ms      REAL
        );
        CREATE INDEX captures_verdict ON captures(verdict, id);
        CREATE INDEX captures_issuer ON captures(issuer, id);
        CREATE INDEX captures_kind ON captures(kind, id);
        CREATE INDEX captures_jti ON captures(jti);
        CREATE INDEX captures_delivery_key ON captures(delivery_key, id);
        CREATE TABLE capture_event_types (
            event_type  TEXT NOT NULL,
            capture_id  INTEGER NOT NULL,
            PRIMARY KEY (event_type, capture_id)
        ) WITHOUT ROWID;
        CREATE VIRTUAL TABLE captures_fts USING fts5(text, content='', detail='none', tokenize='unicode61');
        -- Index maintenance runs inside the INSERT's own step: one round trip per capture
        -- from Python (each round trip hands the GIL over; see store/writer.py).
        CREATE TRIGGER captures_index AFTER INSERT ON captures BEGIN
            INSERT OR IGNORE INTO capture_event_types (event_type, capture_id)
                SELECT value, new.id FROM json_each(new.event_types);
            INSERT INTO captures_fts (rowid, text) VALUES (new.id,
                new.method || ' ' || new.path || ' ' || new.query || ' ' || new.headers || ' ' ||
                coalesce(new.set_header || ' ' || new.set_claims, CAST(substr(new.body, 1, 65536) AS TEXT), ''));
        END;
        CREATE TABLE trusted_issuers (
            issuer    TEXT PRIMARY KEY,
            jwks_url  TEXT,
            jwks      TEXT,
            added_at  REAL NOT NULL
        );
        CREATE TABLE settings (
            key    TEXT PRIMARY KEY,
            value  TEXT NOT NULL
        );
        """,
    ),
    (
        2,
        """
        -- The transmitter simulator: its signing keys, streams, subjects, deliveries and attempts.
        CREATE TABLE signing_keys (
            kid          TEXT PRIMARY KEY,
            alg          TEXT NOT NULL,
            private_jwk  TEXT NOT NULL,
            created_at   REAL NOT NULL,
            retired_at   REAL,
            expires_at   REAL
        );
        CREATE TABLE streams (
            stream_id    TEXT PRIMARY KEY,
            config       TEXT NOT NULL,
            status       TEXT NOT NULL DEFAULT 'enabled',
            reason       TEXT,
            policy       TEXT NOT NULL DEFAULT 'simulator',
            faults       TEXT NOT NULL DEFAULT '{}',
            created_at   REAL NOT NULL,
            updated_at   REAL NOT NULL,
            last_verification_at REAL
        );
        CREATE TABLE stream_subjects (
            stream_id    TEXT NOT NULL,
            subject      TEXT NOT NULL,
            verified     INTEGER NOT NULL DEFAULT 1,
            removed      INTEGER NOT NULL DEFAULT 0,
            changed_at   REAL NOT NULL,
            PRIMARY KEY (stream_id, subject)
        ) WITHOUT ROWID;
        CREATE TABLE deliveries (
            id               INTEGER PRIMARY KEY,
            stream_id        TEXT,
            jti              TEXT NOT NULL,
            event_type       TEXT,
            body             BLOB NOT NULL,
            mode             TEXT NOT NULL,            -- push | poll
            http_method      TEXT NOT NULL DEFAULT 'POST',
            request_headers  TEXT,                     -- JSON pairs; NULL: the RFC 8935 SET headers
            endpoint         TEXT,
            state            TEXT NOT NULL,
            held             INTEGER NOT NULL DEFAULT 0,
            created_at       REAL NOT NULL,
            next_attempt_at  REAL,
            policy           TEXT NOT NULL,
            faults           TEXT NOT NULL DEFAULT '[]',
            err              TEXT,
            reason           TEXT,
            source           TEXT NOT NULL DEFAULT 'simulator',   -- simulator | replay
            capture_id       INTEGER,                             -- replay: the capture replayed
            run_id           INTEGER                              -- replay: its run
        );
        CREATE INDEX deliveries_run ON deliveries(run_id, id);
        CREATE TABLE replay_runs (
            id           INTEGER PRIMARY KEY,
            started_at   REAL NOT NULL,
            finished_at  REAL,
            target       TEXT NOT NULL,
            mode         TEXT NOT NULL,
            selection    TEXT NOT NULL,
            total        INTEGER NOT NULL DEFAULT 0,
            succeeded    INTEGER NOT NULL DEFAULT 0,
            failed       INTEGER NOT NULL DEFAULT 0,
            state        TEXT NOT NULL DEFAULT 'running'   -- running | finished | cancelled
        );
        CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
        CREATE INDEX deliveries_stream ON deliveries(stream_id, id);
        CREATE INDEX deliveries_jti ON deliveries(jti);
        CREATE TABLE attempts (
            delivery_id      INTEGER NOT NULL,
            n                INTEGER NOT NULL,
            started_at       REAL NOT NULL,
            ended_at         REAL,
            status           INTEGER,
            error            TEXT,
            latency_ms       REAL,
            response_headers TEXT,
            response_body    TEXT,
            retry_after      REAL,
            next_retry_at    REAL,
            outcome          TEXT,
            reason           TEXT,
            PRIMARY KEY (delivery_id, n)
        ) WITHOUT ROWID;
        """,
    ),
    (
        3,
        """
        -- Imported captures (origin 'import') remember where they came from.
        ALTER TABLE captures ADD COLUMN source TEXT;
        ALTER TABLE captures ADD COLUMN source_entry TEXT;
        """,
    ),
    (
        4,
        """
        -- SSF transmitters this workspace subscribes to (app/core/subscriptions), and every
        -- HTTP exchange with them. `auth` holds secrets (bearer token, client secret): it is
        -- never logged nor exported; exchange rows are redacted before they are written.
        CREATE TABLE transmitters (
            issuer         TEXT PRIMARY KEY,
            metadata       TEXT NOT NULL,
            metadata_url   TEXT NOT NULL,
            location       TEXT NOT NULL,            -- which well-known location answered
            notes          TEXT NOT NULL DEFAULT '[]',
            auth_kind      TEXT NOT NULL DEFAULT 'none',  -- none | bearer | client_credentials
            auth           TEXT NOT NULL DEFAULT '{}',
            added_at       REAL NOT NULL,
            updated_at     REAL NOT NULL
        );
        CREATE TABLE transmitter_exchanges (
            id               INTEGER PRIMARY KEY,
            issuer           TEXT,
            operation        TEXT NOT NULL,
            method           TEXT NOT NULL,
            url              TEXT NOT NULL,
            request_headers  TEXT NOT NULL,
            request_body     TEXT,
            status           INTEGER,
            response_headers TEXT,
            response_body    TEXT,
            error            TEXT,
            notes            TEXT NOT NULL DEFAULT '[]',
            started_at       REAL NOT NULL,
            duration_ms      REAL
        );
        CREATE INDEX transmitter_exchanges_issuer ON transmitter_exchanges(issuer, id);
        """,
    ),
    (
        5,
        """
        -- The deliveries view filters by state, newest first.
        CREATE INDEX deliveries_state ON deliveries(state, id);
        """,
    ),
    (
        6,
        """
        -- The request target exactly as it arrived on the request line (path and ?query, not
        -- decoded); path and query stay decoded for filters, FTS and fault rules. NULL: stored before.
        ALTER TABLE captures ADD COLUMN target TEXT;
        """,
    ),
]

# max(), not the last entry, and applied in sorted order: migrations were written on parallel branches.
SCHEMA_VERSION = max(number for number, _ in MIGRATIONS)


def _has_import_sources(conn: sqlite3.Connection) -> bool:
    return "source" in {row[1] for row in conn.execute("PRAGMA table_info(captures)")}


def _has_raw_target(conn: sqlite3.Connection) -> bool:
    return "target" in {row[1] for row in conn.execute("PRAGMA table_info(captures)")}


# Migrations that reached main after a higher number did: a workspace written in between has
# a user_version above them without their changes. Each names a probe: is it in already?
# (3, import sources, branch perf, was merged after 4, subscriptions.)
# (6, the raw request target, branch raw-target: probed too, so it is applied whatever its merge order.)
MERGED_LATE = {3: _has_import_sources, 6: _has_raw_target}


def default_workspace_path() -> Path:
    base = os.environ.get("SIGNALSCOPE_DATA_DIR") or platformdirs.user_data_dir("signalscope", "Signalscope")
    return Path(base) / "default.signalscope"


def connect(path: str | os.PathLike[str], *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the workspace's pragmas (WAL, busy timeout)."""
    if readonly:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(os.fspath(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit survives a crash of the process (kill -9);
        # only a power loss can roll back the last transactions.
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class WorkspaceError(Exception):
    """The file cannot be used as a workspace (the message says why)."""


def open_workspace(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (creating if needed) a workspace and bring its schema up to date."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = connect(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise WorkspaceError(f"{path} is not a Signalscope workspace: {exc}") from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise WorkspaceError(
            f"{path} was written by a newer Signalscope (schema {version}, this version knows {SCHEMA_VERSION})"
        )
    for number, script in sorted(MIGRATIONS):
        if number <= version and (number not in MERGED_LATE or MERGED_LATE[number](conn)):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {max(number, version)}")
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
    return conn


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (a trigger body stays whole)."""
    statements, current = [], ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                statements.append(current.strip())
            current = ""
    return statements
