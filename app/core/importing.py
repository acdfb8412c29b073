"""Importing captures: read a file, verify each SET as the receiver would, store.

Every imported request becomes a capture with origin 'import' and its source
(file name and "line N" / "entries[N]"). SETs are verified afresh by
`set_verification.verify_set_body` against the workspace's trusted issuers,
with the time the file says the request arrived, so an import gets the verdict
a live capture would have got. Webhooks keep their delivery key.

Atomicity: all the readable entries of one file are committed in ONE
transaction, after all of them are verified: an import is either wholly in the
workspace or not at all (a crash or a full disk mid-import leaves nothing half
written), while unreadable entries are reported and skipped.
"""

from __future__ import annotations

import inspect
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from app.core.import_formats import ImportedRequest, ImportFailure, ImportFormatError, parse_import
from app.core.set_verification import VerificationSettings, is_set_media_type, verify_set_body
from app.core.store.captures import CaptureRecord, StoredCapture, insert_capture
from app.core.trust import TrustStore
from app.core.verify import UNVERIFIED
from app.core.webhooks import delivery_key

__all__ = ["ImportSummary", "import_data", "records_for", "insert_captures", "ImportFormatError"]


@dataclass
class ImportSummary:
    source: str
    format: str | None = None
    ids: list[int] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)
    error: str | None = None  # the file could not be read at all

    def to_json(self) -> dict:
        return {
            "file": self.source,
            "format": self.format,
            "imported": len(self.ids),
            "ids": self.ids,
            "failures": [f.to_json() for f in self.failures],
            "error": self.error,
        }


async def import_data(
    data: bytes | str,
    source: str,
    *,
    trust: TrustStore,
    store: Callable[[Callable[[sqlite3.Connection], list[StoredCapture]]], Any],
    settings: VerificationSettings | None = None,
    clock: Callable[[], float] = time.time,
) -> ImportSummary:
    """Import one file's content. `store(op)` commits `op` in one transaction and
    returns its result or an awaitable of it: `writer.run` inside the engine's loop,
    `writer.run_sync` in a command-line tool."""
    summary = ImportSummary(source)
    try:
        parsed = parse_import(data)
    except ImportFormatError as exc:
        summary.error = f"{source} cannot be imported: {exc}"
        return summary
    summary.format, summary.failures = parsed.format, list(parsed.failures)
    records = await records_for(parsed.requests, source, trust=trust, settings=settings, clock=clock)
    if records:
        try:
            stored = store(insert_captures(records))
            if inspect.isawaitable(stored):
                stored = await stored
            summary.ids = [capture.id for capture in stored]
        except (sqlite3.Error, OverflowError) as exc:  # rolled back: nothing of this file is stored
            summary.error = f"{source} could not be stored, nothing of it was imported: {exc}"
    return summary


async def records_for(
    requests: list[ImportedRequest],
    source: str,
    *,
    trust: TrustStore,
    settings: VerificationSettings | None = None,
    clock: Callable[[], float] = time.time,
) -> list[CaptureRecord]:
    settings = settings or VerificationSettings()
    records = []
    for request in requests:
        records.append(await _record(request, source, trust, settings, clock))
    return records


async def _record(request: ImportedRequest, source: str, trust: TrustStore, settings, clock) -> CaptureRecord:
    content_type = next((v for k, v in request.headers if k.lower() == "content-type"), None)
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    record = CaptureRecord(
        received_at=request.received_at if request.received_at is not None else clock(),
        method=request.method,
        path=request.path,
        query=request.query,
        headers=list(request.headers),
        body=request.body,
        body_size=request.body_size or len(request.body),
        body_truncated=request.body_truncated,
        peer=request.peer,
        content_type=content_type,
        kind="webhook",
        verdict=UNVERIFIED,
        report={"verdict": UNVERIFIED, "checks": [], "err": None, "description": None},
        response_status=request.response_status,
        response_headers=list(request.response_headers),
        response_body=request.response_body,
        origin="import",
        duration_ms=request.duration_ms,
        rule=request.rule,
        source=source,
        source_entry=request.entry,
        target=request.target,
    )
    if request.bare_token or is_set_media_type(media_type):
        record.kind = "set"
        # As the receiver: only a complete POST body is a delivery to verify.
        if request.method == "POST" and request.body and not request.body_truncated:
            await verify_set_body(record, None if request.bare_token else media_type, trust, settings)
    else:
        record.delivery_key = delivery_key({k.lower(): v for k, v in request.headers}, request.body, media_type)
    return record


def insert_captures(records: list[CaptureRecord]):
    """One operation (one transaction) inserting all `records`, in order."""
    ops = [insert_capture(record) for record in records]

    def op(conn: sqlite3.Connection) -> list[StoredCapture]:
        return [insert(conn) for insert in ops]

    return op
