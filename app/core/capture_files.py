"""Captures to and from files for a running engine: import files (JSON lines, HAR,
.jwt) into its workspace, export a filtered list as JSON lines or HAR.

The window calls these on the engine's loop (through the bridge). Imports verify
each SET against the engine's trusted issuers and audiences, as the receiver
would (core `importing`); exports read through a connection of their own in a
worker thread, so neither the GUI nor the receiver waits for a big file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.exporting import FORMATS  # "jsonl", "har"
from app.core.importing import ImportSummary, import_data  # one transaction per file, on the engine writer
from app.core.store.captures import CaptureFilter


async def import_paths(engine, paths: list[Path]) -> list[ImportSummary]:
    from app.core.set_verification import VerificationSettings

    settings = VerificationSettings(audiences=tuple(engine.config.audiences))
    summaries = []
    for path in map(Path, paths):
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            summaries.append(ImportSummary(path.name, error=f"{path.name} cannot be read: {exc.strerror or exc}"))
            continue
        summaries.append(await import_data(data, path.name, trust=engine.trust, store=engine.writer.run,
                                           settings=settings))
    return summaries


def format_for(path: Path, chosen: str | None = None) -> str:
    if chosen in FORMATS:
        return chosen
    return "har" if Path(path).suffix.lower() == ".har" else "jsonl"


def export_to_file(workspace: Path, flt: CaptureFilter, path: Path, fmt: str) -> int:
    """Write the captures matching `flt` to `path` (core `exporting`); returns how many."""
    from app.core.exporting import export_captures as export
    from app.core.store.schema import connect

    conn = connect(workspace, readonly=True)
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            return export(conn, out, fmt=fmt, selection=flt)
    finally:
        conn.close()


async def export_captures(engine, flt: CaptureFilter, path: Path, fmt: str) -> int:
    return await asyncio.to_thread(export_to_file, engine.config.workspace, flt, Path(path), fmt)


def describe_imports(summaries: list[ImportSummary]) -> tuple[str, list[str]]:
    """A sentence for the whole import, and one line per failed file or entry."""
    imported = sum(len(s.ids) for s in summaries)
    problems = []
    for s in summaries:
        if s.error:
            problems.append(s.error)
        problems += [f"{s.source}, {f.entry}: {f.reason}" for f in s.failures]
    files = len(summaries)
    text = f"Imported {imported} capture{'s' if imported != 1 else ''} from {files} file{'s' if files != 1 else ''}"
    if problems:
        text += f"; {len(problems)} could not be imported"
    return text + ".", problems
