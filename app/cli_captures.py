"""CLI commands for captures in and out: `export --format`, `import`, `curl`, `compare`.

Kept beside cli.py (which registers them) so the front end stays one small file
per concern. JSON goes to stdout; errors are one sentence on stderr (CliError).

`import` exit status: 0 when every entry of every file was imported; 1 when some
entries (or files) failed but something was imported; 2 when nothing at all
could be imported (with a sentence on stderr). One JSON summary line per file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["jsonl", "har"], default="jsonl",
                        help="jsonl: one event per line (default); har: one HAR 1.2 document")
    parser.add_argument("--filter-text", default="", help="free text, as the search box (FTS prefix match)")
    parser.add_argument("--verdict", choices=["valid", "invalid", "unverified"])
    parser.add_argument("--kind-filter", choices=["set", "webhook"], help="only SETs or only webhooks")
    parser.add_argument("--issuer")
    parser.add_argument("--event-type", help="an event type URI")


def add_commands(sub) -> None:
    im = sub.add_parser("import", help="import captures (JSON lines, HAR, .jwt files, '-' for stdin)")
    im.add_argument("--workspace", type=Path, required=True)
    im.add_argument("files", nargs="+", metavar="FILE")
    im.add_argument("--audience", action="append", default=[], help="audience the SETs must carry (as headless)")

    cu = sub.add_parser("curl", help="print a curl command that sends a capture again")
    cu.add_argument("--workspace", type=Path, required=True)
    cu.add_argument("id", type=int)
    cu.add_argument("--to", metavar="URL", help="base URL (default: the capture's own Host)")

    co = sub.add_parser("compare", help="print the differences between two captures as JSON")
    co.add_argument("--workspace", type=Path, required=True)
    co.add_argument("a", type=int)
    co.add_argument("b", type=int)


def capture_filter(args):
    from app.core.store.captures import CaptureFilter

    return CaptureFilter(text=args.filter_text, verdict=args.verdict, kind=args.kind_filter, issuer=args.issuer,
                         event_type=args.event_type, after_id=args.after_id)


def readonly_workspace(workspace: Path):
    """A read-only connection to an existing workspace; anything else is a CliError (exit 2, one sentence)."""
    import sqlite3

    from app.cli import CliError
    from app.core.store.schema import SCHEMA_VERSION, WorkspaceError, connect, open_workspace

    if not workspace.exists():
        raise CliError(f"no workspace at {workspace}")
    try:
        conn = connect(workspace, readonly=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CliError(f"{workspace} is not a Signalscope workspace: {exc}") from None
    if version == 0:  # every workspace has been migrated at least once
        conn.close()
        raise CliError(f"{workspace} is not a Signalscope workspace: it has no Signalscope tables")
    if version < SCHEMA_VERSION:  # written by an older Signalscope: bring it up to date first, as the window does
        conn.close()
        try:
            open_workspace(workspace).close()
        except (WorkspaceError, sqlite3.Error) as exc:
            raise CliError(f"{workspace} is from an older Signalscope (schema {version}) and could not be "
                           f"brought up to date: {exc}") from None
        conn = connect(workspace, readonly=True)
    return conn



def _capture(conn, capture_id: int) -> dict:
    from app.cli import CliError
    from app.core.store.captures import get_capture

    capture = get_capture(conn, capture_id)
    if capture is None:
        raise CliError(f"there is no capture #{capture_id} in this workspace")
    return capture


def run_curl(args) -> int:
    from app.cli import CliError
    from app.core.curl import CurlError, curl_command

    conn = readonly_workspace(args.workspace)
    try:
        capture = _capture(conn, args.id)
    finally:
        conn.close()
    base = args.to
    if base is None:
        host = next((v for k, v in capture["headers"] if k.lower() == "host"), None)
        if host is None:
            raise CliError(f"capture #{args.id} has no Host header; say where to send it with --to URL")
        base = f"http://{host}"
    try:
        print(curl_command(capture, base))
    except CurlError as exc:
        raise CliError(str(exc)) from None
    return 0


def run_compare(args) -> int:
    from app.core.compare import compare_captures

    conn = readonly_workspace(args.workspace)
    try:
        a, b = _capture(conn, args.a), _capture(conn, args.b)
    finally:
        conn.close()
    print(json.dumps(compare_captures(a, b)))
    return 0


def run_import(args) -> int:
    from app.cli import CliError
    from app.core.store.schema import WorkspaceError, open_workspace

    try:
        conn = open_workspace(args.workspace)
    except WorkspaceError as exc:
        raise CliError(str(exc)) from None
    try:
        summaries = asyncio.run(_import_files(conn, args))
    finally:
        conn.close()
    imported = sum(len(s.ids) for s in summaries)
    troubled = any(s.error or s.failures for s in summaries)
    if imported == 0 and troubled:
        raise CliError("nothing could be imported (each file's summary line says why)")
    return 1 if troubled else 0


async def _import_files(conn, args):
    import httpx

    from app.core.importing import ImportSummary, import_data
    from app.core.set_verification import VerificationSettings
    from app.core.store.writer import StoreWriter
    from app.core.trust import TrustError, TrustStore

    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=3.0), follow_redirects=False, trust_env=False) as http:
        trust = TrustStore(http)
        for issuer, jwks_url, jwks in conn.execute("SELECT issuer, jwks_url, jwks FROM trusted_issuers").fetchall():
            try:
                trust.trust(issuer, jwks_url=jwks_url, jwks=json.loads(jwks) if jwks else None)
            except TrustError as exc:
                print(f"signalscope: trusted issuer {issuer} is unusable: {exc}", file=sys.stderr)
        writer = StoreWriter(conn)
        settings = VerificationSettings(audiences=tuple(args.audience))
        summaries = []
        for name in args.files:
            source = "stdin" if name == "-" else Path(name).name
            try:
                data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            except OSError as exc:
                summary = ImportSummary(name, error=f"{name} cannot be read: {exc.strerror or exc}")
            else:
                summary = await import_data(data, source, trust=trust, store=writer.run_sync, settings=settings)
            print(json.dumps(summary.to_json()), flush=True)
            summaries.append(summary)
        return summaries
