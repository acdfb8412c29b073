"""`signalscope replay`: send captured requests of a workspace again, for CI.

Runs without servers: it opens the workspace (a headless run on the same workspace
may keep going: SQLite WAL and one transaction per write let both work), selects
captures (ids, filter, "failed since"), sends each to `--to` exactly or re-signed
with the workspace's simulator key, at `--rate` per second, and prints one JSON line
per capture, then a summary line. Exit status 0 when every replay was delivered (2xx),
1 when any was not, 2 with a sentence on errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit


def add_replay_parser(sub) -> None:
    rp = sub.add_parser("replay", help="send captured requests again to a URL")
    rp.add_argument("--workspace", type=Path, required=True)
    rp.add_argument("--to", required=True, help="target URL (your webhook handler)")
    rp.add_argument("--id", type=int, action="append", dest="ids", help="capture id (repeatable); default: the filter")
    rp.add_argument("--text", default="", help="free-text filter (body and headers)")
    rp.add_argument("--verdict", choices=["valid", "invalid", "unverified"])
    rp.add_argument("--kind", choices=["set", "webhook"])
    rp.add_argument("--issuer")
    rp.add_argument("--event-type")
    rp.add_argument("--failed-since", metavar="WHEN",
                    help="only captures refused (>= 400) or invalid since WHEN (RFC 3339 time, or epoch seconds)")
    rp.add_argument("--order", choices=["original", "time"], default="original")
    rp.add_argument("--selection", metavar="NAME", help="a selection saved in the workspace (instead of the filter)")
    rp.add_argument("--save-selection", metavar="NAME", help="also save this command's selection under NAME")
    rp.add_argument("--mode", choices=["exact", "resign"], default="exact")
    rp.add_argument("--issuer-as", help="with --mode resign: set iss to this (the issuer whose JWKS has the key)")
    rp.add_argument("--keep-iat", action="store_true", help="with --mode resign: keep the original iat")
    rp.add_argument("--keep-jti", action="store_true", help="with --mode resign: keep the original jti")
    rp.add_argument("--push-ca-file", type=Path, metavar="PEM", help="also trust these CA certificates for an https --to")
    rp.add_argument("--push-insecure", action="store_true", help="accept any certificate from an https --to")
    rp.add_argument("--rate", type=float, help="replays per second (default: as fast as possible)")
    rp.add_argument("--policy", default="github", help="retry policy of each replay (default github: no retries)")


def _since(text: str | None) -> float | None:
    from app.cli import CliError

    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise CliError(f"--failed-since {text!r} is neither an RFC 3339 time nor epoch seconds") from None


def run_replay(args: argparse.Namespace) -> int:
    from app.cli import CliError
    from app.core.retry import get_policy

    if urlsplit(args.to).scheme not in ("http", "https") or not urlsplit(args.to).netloc:
        raise CliError(f"--to {args.to!r} is not an http(s) URL")
    if not args.workspace.exists():
        raise CliError(f"no workspace at {args.workspace}")
    if args.rate is not None and args.rate <= 0:
        raise CliError("--rate must be a positive number")
    try:
        get_policy(args.policy)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return asyncio.run(_replay(args, _since(args.failed_since)))


async def _replay(args: argparse.Namespace, since: float | None) -> int:
    from app.cli import CliError
    from app.core.bus import Bus
    from app.core.replay import ReplayEditError, Replayer, edited_request, exact_request
    from app.core.replay_runs import Selection, run_bulk, select
    from app.core.store.captures import CaptureFilter
    from app.core.store.schema import WorkspaceError, open_workspace
    from app.core.store.writer import StoreWriter
    from app.core.transmitter.delivery import DeliveryConfig, PushDeliverer
    from app.core.transmitter.keys import KeyRing

    from app.cli import push_tls

    tls = push_tls(args)  # an unreadable CA file is refused before the workspace is opened
    try:
        conn = open_workspace(args.workspace)
    except WorkspaceError as exc:
        raise CliError(str(exc)) from None
    writer = StoreWriter(conn)
    deliverer = PushDeliverer(writer, Bus(), config=DeliveryConfig(max_in_flight=16, user_agent="Signalscope-replay",
                                                                   ca_file=tls.ca_file, verify_tls=tls.verify_tls))
    await deliverer.open()  # no scheduler: each replay is attempted directly (retries need a running engine)
    try:
        selection = Selection(CaptureFilter(text=args.text, verdict=args.verdict, kind=args.kind, issuer=args.issuer,
                                            event_type=args.event_type), ids=args.ids,
                              failed_only=since is not None, since=since, order=args.order)
        if args.selection:
            from app.core.saved_selections import load

            saved = load(conn)
            if args.selection not in saved:
                known = ", ".join(sorted(saved)) or "none saved yet"
                raise CliError(f"no saved selection named {args.selection!r} (saved: {known})")
            selection = saved[args.selection]
        if args.save_selection:
            from app.core.saved_selections import save_op

            await writer.run(save_op(args.save_selection, selection))
        try:
            ids = select(conn, selection)
        except ReplayEditError as exc:
            raise CliError(str(exc)) from None
        if args.mode == "resign":
            key = KeyRing.load(conn, alg=None).active  # the simulator's active key, as it is (no rotation)

            def build(capture):
                return edited_request(capture, key=key, issuer=args.issuer_as, fresh_iat=not args.keep_iat,
                                      fresh_jti=not args.keep_jti)
        else:
            build = exact_request

        def progress(summary, outcome):
            sys.stdout.write(json.dumps(outcome.to_json()) + "\n")
            sys.stdout.flush()

        summary = await run_bulk(writer, Replayer(writer, deliverer), conn, ids, target=args.to, build=build,
                                 mode=args.mode, selection=selection, rate=args.rate, policy=args.policy,
                                 progress=progress)
        sys.stdout.write(json.dumps({"summary": summary.to_json()}) + "\n")
        return 0 if summary.failed == 0 else 1
    finally:
        await deliverer.stop()
        await writer.close()

