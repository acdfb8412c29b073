"""Command line front end: `signalscope [gui]`, `headless`, `export`.

Errors end with a non-zero exit status and one sentence on stderr; JSON goes to
stdout only, one object per line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from app import __version__
from app.cli_captures import add_commands as add_capture_commands
from app.cli_captures import add_filter_arguments


def _issuer_spec(text: str) -> tuple[str, str | None]:
    """ISSUER[=JWKS_URL]; the issuer itself may contain '=' only in its query, which issuers may not have."""
    issuer, sep, url = text.partition("=")
    if not issuer:
        raise argparse.ArgumentTypeError("expected ISSUER or ISSUER=JWKS_URL")
    return issuer, (url if sep else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signalscope", description="Inspector for webhooks and OpenID Shared Signals")
    parser.add_argument("--version", action="version", version=f"signalscope {__version__}")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("--workspace", type=Path)

    hl = sub.add_parser("headless", help="run the receiver (and simulator) without a window")
    hl.add_argument("--workspace", type=Path, help="workspace file (default: the platform data directory)")
    hl.add_argument("--host", default="127.0.0.1")
    hl.add_argument("--receiver-port", type=int, default=0)
    hl.add_argument("--transmitter-port", type=int, default=0)
    hl.add_argument("--trust-issuer", type=_issuer_spec, action="append", default=[], metavar="ISSUER[=JWKS_URL]")
    hl.add_argument("--audience", action="append", default=[])
    hl.add_argument("--receiver-token")
    hl.add_argument("--body-limit", type=int, default=1024 * 1024, help="bytes (default 1 MiB)")
    hl.add_argument("--fault-rules", type=Path, metavar="FILE",
                    help="JSON fault rules for the receiver (format in app/core/faults.py and the README)")
    hl.add_argument("--no-transmitter", action="store_true", help="run the receiver only")
    hl.add_argument("--key-alg", default="ES256", choices=["ES256", "RS256", "PS256", "EdDSA"],
                    help="the simulator's signing algorithm (default ES256)")
    hl.add_argument("--issuer-path", default="", help="path of the simulator's issuer URL, e.g. /tenant1")
    hl.add_argument("--default-subjects", default="ALL", choices=["ALL", "NONE"])
    hl.add_argument("--inactivity-timeout", type=int, default=7 * 24 * 3600, metavar="SECONDS",
                    help="pause a stream whose receiver stays silent this long (default 7 days)")
    hl.add_argument("--one-stream-per-receiver", action="store_true",
                    help="the simulator answers 409 to a second stream create, as some transmitters do")
    hl.add_argument("--jwks-fault", choices=["unavailable", "missing_active_key", "slow", "malformed"],
                    help="the simulator's JWKS endpoint misbehaves on purpose (change it at run time with "
                         "POST /control/transmitter)")
    hl.add_argument("--defer-changes", type=float, default=0.0, metavar="SECONDS",
                    help="the simulator answers 202 to stream updates and status changes and applies them this "
                         "much later (SSF: accepted, not yet processed)")
    hl.add_argument("--push-ca-file", type=Path, metavar="PEM",
                    help="also trust these CA certificates for the simulator's https push endpoints")
    hl.add_argument("--push-insecure", action="store_true",
                    help="accept any certificate from https push endpoints (a local self-signed one)")
    hl.add_argument("--time-scale", type=float, default=1.0,
                    help="run the simulator's clock this many times faster (retry schedules in compressed time)")
    hl.add_argument("-v", "--verbose", action="store_true")

    ex = sub.add_parser("export", help="print captures as JSON lines")
    ex.add_argument("--workspace", type=Path, required=True)
    ex.add_argument("--kind", choices=["events", "deliveries"], default="events")
    ex.add_argument("--after-id", type=int, default=None, help="only captures with a larger id")
    from app.cli_emit import add_emit_parser
    from app.cli_replay import add_replay_parser

    add_emit_parser(sub)
    add_replay_parser(sub)
    from app.cli_streams import add_streams_parser

    add_streams_parser(sub)
    add_filter_arguments(ex)
    add_capture_commands(sub)
    return parser


COMMANDS = {"gui", "headless", "export", "emit", "replay", "streams", "import", "curl", "compare"}


def normalise_argv(argv: list[str]) -> list[str]:
    """`signalscope FILE` (how a desktop opens a workspace: Exec=signalscope %f) means
    `signalscope gui --workspace FILE`."""
    if len(argv) == 1 and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        return ["gui", "--workspace", argv[0]]
    return argv


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(normalise_argv(sys.argv[1:] if argv is None else list(argv)))
    command = args.command or "gui"
    try:
        if command == "headless":
            return run_headless(args)
        if command == "export":
            return run_export(args)
        if command == "emit":
            from app.cli_emit import run_emit

            return run_emit(args)
        if command == "replay":
            from app.cli_replay import run_replay

            return run_replay(args)
        if command == "streams":
            from app.cli_streams import run_streams

            return run_streams(args)
        if command in ("import", "curl", "compare"):
            from app import cli_captures

            return {"import": cli_captures.run_import, "curl": cli_captures.run_curl,
                    "compare": cli_captures.run_compare}[command](args)
        if command == "gui":
            from app.ui.launch import launch_gui  # imported late: headless never loads Qt

            return launch_gui(getattr(args, "workspace", None))
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"signalscope: {exc}", file=sys.stderr)
        return 2
    return 0


class CliError(Exception):
    """A user-facing error: printed as one sentence, exit status 2."""


def push_tls(args):
    """DeliveryConfig with the TLS trust the push flags ask for (CliError on an unreadable CA file)."""
    from app.core.transmitter.delivery import DeliveryConfig, tls_context

    config = DeliveryConfig(ca_file=str(args.push_ca_file) if args.push_ca_file else None,
                            verify_tls=not args.push_insecure)
    try:
        tls_context(config)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return config


def run_headless(args) -> int:
    from app.core.engine import Engine, EngineConfig
    from app.core.transmitter import TransmitterSettings
    from app.core.transmitter.delivery import ScaledClock
    from app.core.store.schema import WorkspaceError, default_workspace_path

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app.core.faults import FaultRuleError, FaultRules

    workspace = (args.workspace or default_workspace_path()).resolve()
    if not args.time_scale > 0:
        raise CliError("--time-scale must be a positive number")
    if not 0 <= args.defer_changes <= 3600:
        raise CliError("--defer-changes must be from 0 (off) to 3600 seconds")
    if args.inactivity_timeout < 1:
        raise CliError("--inactivity-timeout must be at least 1 second")
    try:
        fault_rules = FaultRules.load(str(args.fault_rules)) if args.fault_rules else None
    except FaultRuleError as exc:
        raise CliError(str(exc)) from None
    tls = push_tls(args)
    config = EngineConfig(
        workspace=workspace,
        host=args.host,
        receiver_port=args.receiver_port,
        transmitter_port=args.transmitter_port,
        receiver_token=args.receiver_token,
        audiences=tuple(args.audience),
        trust_issuers=list(args.trust_issuer),
        body_limit=args.body_limit,
        fault_rules=fault_rules,
        transmitter=not args.no_transmitter,
        transmitter_settings=TransmitterSettings(key_alg=args.key_alg, issuer_path=args.issuer_path,
                                                 default_subjects=args.default_subjects,
                                                 inactivity_timeout=args.inactivity_timeout,
                                                 one_stream_per_receiver=args.one_stream_per_receiver,
                                                 jwks_fault=args.jwks_fault, defer_changes=args.defer_changes),
        push_ca_file=tls.ca_file, push_verify_tls=tls.verify_tls,
        clock=ScaledClock(args.time_scale) if args.time_scale != 1.0 else None,
    )

    async def serve() -> int:
        engine = Engine(config)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await engine.start()
        except WorkspaceError as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            await engine.stop()
            raise CliError(f"cannot listen on {args.host}: {exc.strerror or exc}") from None
        print(json.dumps(engine.ready_info()), flush=True)
        await stop.wait()
        await engine.stop()
        return 0

    return asyncio.run(serve())


def run_export(args) -> int:
    from app.cli_captures import readonly_workspace

    conn = readonly_workspace(args.workspace)
    if conn.execute("PRAGMA user_version").fetchone()[0] < 2 and args.kind == "deliveries":
        conn.close()
        return 0  # a workspace from before the simulator has no deliveries
    try:
        if args.kind == "events":
            from app.cli_captures import capture_filter
            from app.core.exporting import export_captures

            export_captures(conn, sys.stdout, fmt=args.format, selection=capture_filter(args))
        else:
            from app.core.store import deliveries

            for line in deliveries.export_lines(conn):
                sys.stdout.write(json.dumps(line) + "\n")
    except BrokenPipeError:
        return 0
    finally:
        conn.close()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
