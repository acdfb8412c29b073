"""`signalscope streams ...`: manage an SSF stream at a transmitter from the command line (for CI).

Every subcommand discovers the transmitter (`--transmitter ISSUER`), authenticates
(`--token`, or OAuth client credentials), performs its operation and prints the
result as JSON, one object per line: `{"operation", "status", "data", "notes",
"exchange_id"}` (`notes` says which spec variants were tolerated). Errors (an
unreachable transmitter, invalid metadata, 401, ...) end with exit status 2 and one
sentence on stderr; a verification that did not come back ends with status 1.

With `--workspace W` the exchanges are recorded there, the transmitter (and the
credentials given, which are never printed) is remembered, its issuer is trusted by
a receiver later run on W, and polled SETs are stored as captures (origin `poll`).
Without it a temporary workspace is used and thrown away.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from app.core.transmitter.streams import POLL, PUSH


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("transmitter")
    g.add_argument("--transmitter", required=True, metavar="ISSUER", help="the transmitter's issuer URL")
    g.add_argument("--token", help="bearer token for the management API (or env SIGNALSCOPE_TOKEN)")
    g.add_argument("--client-id", help="OAuth 2.0 client credentials: client id")
    g.add_argument("--client-secret", help="client secret (or env SIGNALSCOPE_CLIENT_SECRET)")
    g.add_argument("--token-endpoint", help="OAuth 2.0 token endpoint URL")
    g.add_argument("--scope", help="scope to ask for, e.g. ssf.manage")
    g.add_argument("--client-auth", choices=["basic", "post"], default="basic",
                   help="how the client authenticates at the token endpoint (default: HTTP Basic)")
    g.add_argument("--workspace", type=Path, help="record exchanges (and polled captures) in this workspace")
    g.add_argument("--audience", action="append", default=[],
                   help="audience polled SETs must carry (default: the stream's aud)")
    return p


def _stream_body_flags(p: argparse.ArgumentParser, *, stream: bool) -> None:
    if stream:
        p.add_argument("--stream", required=True, help="stream id")
    p.add_argument("--body", help="the request body as a JSON object (flags below are merged into it)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--push", metavar="URL", help="push delivery (RFC 8935) to this endpoint URL")
    how.add_argument("--poll", action="store_true", help="poll delivery (RFC 8936)")
    p.add_argument("--event", action="append", default=[], metavar="TYPE",
                   help="event type URI or catalogue name, e.g. session-revoked (repeatable)")
    p.add_argument("--description")
    p.add_argument("--authorization-header", help="Authorization header value the transmitter sends with pushes")


def add_streams_parser(sub) -> None:
    common = _common()
    st = sub.add_parser("streams", help="manage SSF streams at a transmitter (JSON output)")
    ops = st.add_subparsers(dest="streams_command", required=True)
    ops.add_parser("discover", parents=[common], help="fetch and validate the transmitter's metadata")
    ops.add_parser("list", parents=[common], help="list the streams")
    get = ops.add_parser("get", parents=[common], help="read one stream")
    get.add_argument("--stream", required=True)
    _stream_body_flags(ops.add_parser("create", parents=[common], help="create a stream"), stream=False)
    _stream_body_flags(ops.add_parser("update", parents=[common], help="update a stream (PATCH)"), stream=True)
    _stream_body_flags(ops.add_parser("replace", parents=[common], help="replace a stream (PUT)"), stream=True)
    delete = ops.add_parser("delete", parents=[common], help="delete a stream")
    delete.add_argument("--stream", required=True)
    status = ops.add_parser("status", parents=[common], help="read (or --set) a stream's status")
    status.add_argument("--stream", required=True)
    status.add_argument("--set", choices=["enabled", "paused", "disabled"])
    status.add_argument("--reason")
    subject = ops.add_parser("subject", help="add or remove a subject")
    sops = subject.add_subparsers(dest="subject_command", required=True)
    for name in ("add", "remove"):
        s = sops.add_parser(name, parents=[common])
        s.add_argument("--stream", required=True)
        s.add_argument("--subject", required=True, help='subject identifier as JSON, e.g. \'{"format":"email","email":"a@b.c"}\'')
        if name == "add":
            s.add_argument("--unverified", action="store_true", help="send verified: false")
    verify = ops.add_parser("verify", parents=[common],
                            help="request verification and wait for its SET: poll streams are polled; push streams "
                                 "are watched for in --workspace (where a running headless receiver stores them)")
    verify.add_argument("--stream", required=True)
    verify.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the SET")
    known = ops.add_parser("transmitters", help="the transmitters a workspace remembers (credentials described only)")
    known.add_argument("--workspace", type=Path, required=True)
    ex = ops.add_parser("exchanges", help="print the exchanges recorded in a workspace (JSON lines)")
    ex.add_argument("--workspace", type=Path, required=True)
    ex.add_argument("--transmitter", metavar="ISSUER", help="only the exchanges with this transmitter")
    ex.add_argument("--after-id", type=int, help="only exchanges with a larger id")
    poll = ops.add_parser("poll", parents=[common], help="poll a poll stream (RFC 8936)")
    poll.add_argument("--stream", required=True)
    poll.add_argument("--max-events", type=int)
    poll.add_argument("--ack-valid", action="store_true",
                      help="acknowledge SETs that verified and report the others in setErrs")
    poll.add_argument("--continuous", action="store_true", help="long-poll repeatedly (one JSON line per poll)")
    poll.add_argument("--seconds", type=float, default=30.0, help="how long --continuous runs")


# -- running ----------------------------------------------------------------------------------

def _json_arg(text: str | None, name: str):
    from app.cli import CliError

    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"--{name} is not valid JSON ({exc})") from None


def _event_uri(name: str) -> str:
    from app.cli import CliError
    from app.core.catalogue import default_catalogue

    if "://" in name or name.startswith("urn:"):
        return name
    matches = [e.uri for e in default_catalogue().events if e.name == name]
    if len(matches) != 1:
        raise CliError(f"unknown event type {name!r}; use a URI or a catalogue name such as session-revoked")
    return matches[0]


def _stream_body(args, stream_id: str | None) -> dict:
    from app.cli import CliError

    body = _json_arg(args.body, "body") or {}
    if not isinstance(body, dict):
        raise CliError("--body must be a JSON object")
    if stream_id is not None:
        body["stream_id"] = stream_id
    delivery = dict(body.get("delivery") or {})
    if args.push:
        delivery.update(method=PUSH, endpoint_url=args.push)
    elif args.poll:
        delivery = {"method": POLL}
    if args.authorization_header:
        delivery["authorization_header"] = args.authorization_header
    if delivery:
        body["delivery"] = delivery
    if args.event:
        body["events_requested"] = [_event_uri(e) for e in args.event]
    if args.description is not None:
        body["description"] = args.description
    return body


def _auth_spec(args):
    from app.cli import CliError
    from app.core.subscriptions import AuthSpec

    token = args.token or os.environ.get("SIGNALSCOPE_TOKEN")
    secret = args.client_secret or os.environ.get("SIGNALSCOPE_CLIENT_SECRET")
    if args.client_id or args.token_endpoint:
        if token:
            raise CliError("give either --token or client credentials, not both")
        if not (args.client_id and secret and args.token_endpoint):
            raise CliError("client credentials need --client-id, --client-secret and --token-endpoint")
        return AuthSpec(kind="client_credentials", token_endpoint=args.token_endpoint, client_id=args.client_id,
                        client_secret=secret, scope=args.scope, client_auth=args.client_auth)
    if token:
        return AuthSpec(kind="bearer", token=token)
    return None  # whatever the workspace remembers for this transmitter, else none


def _emit(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run_streams(args: argparse.Namespace) -> int:
    from app.cli import CliError
    from app.core.store.schema import WorkspaceError

    if args.streams_command in ("exchanges", "transmitters"):
        return _print_exchanges(args) if args.streams_command == "exchanges" else _print_transmitters(args)
    try:
        return asyncio.run(_run(args))
    except WorkspaceError as exc:
        raise CliError(str(exc)) from None


def _print_transmitters(args) -> int:
    from app.cli import CliError
    from app.core.store.schema import connect
    from app.core.subscriptions import AuthSpec

    if not args.workspace.exists():
        raise CliError(f"no workspace at {args.workspace}")
    conn = connect(args.workspace, readonly=True)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < 4:
            return 0
        for issuer, location, url, kind, auth, notes in conn.execute(
                "SELECT issuer, location, metadata_url, auth_kind, auth, notes FROM transmitters ORDER BY issuer"):
            _emit({"issuer": issuer, "location": location, "metadata_url": url, "notes": json.loads(notes),
                   "auth": AuthSpec.from_storage(kind, json.loads(auth)).describe()})
    finally:
        conn.close()
    return 0


def _print_exchanges(args) -> int:
    from app.cli import CliError
    from app.core.store.schema import connect
    from app.core.subscriptions.exchanges import list_exchanges

    if not args.workspace.exists():
        raise CliError(f"no workspace at {args.workspace}")
    conn = connect(args.workspace, readonly=True)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < 4:
            return 0  # a workspace from before subscriptions has no exchanges
        after = args.after_id
        while True:
            page = list_exchanges(conn, issuer=args.transmitter, after_id=after, limit=500)
            for exchange in page:
                sys.stdout.write(json.dumps(exchange.to_json()) + "\n")
            if len(page) < 500:
                break
            after = page[-1].id
    except BrokenPipeError:
        return 0
    finally:
        conn.close()
    sys.stdout.flush()
    return 0


async def _run(args) -> int:
    import httpx

    from app.cli import CliError
    from app.core.bus import Bus
    from app.core.receiver import Receiver, ReceiverConfig
    from app.core.store.schema import open_workspace
    from app.core.store.writer import StoreWriter
    from app.core.subscriptions import AuthError, DiscoveryError, Subscriptions, TransmitterError
    from app.core.subscriptions.service import persist_trust
    from app.core.trust import TrustStore

    temp = None
    if args.workspace is None:
        temp = tempfile.TemporaryDirectory(prefix="signalscope-streams-")
        workspace = Path(temp.name) / "streams.signalscope"
    else:
        workspace = args.workspace
    writer = StoreWriter(open_workspace(workspace))
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False, trust_env=False)
    bus = Bus()
    trust = TrustStore(http)
    receiver = Receiver(ReceiverConfig(audiences=tuple(args.audience)), writer, trust, bus)  # verifies, never listens
    subs = Subscriptions(http=http, bus=bus, receiver=receiver, writer=writer, trust=trust,
                         trust_issuer=persist_trust(writer, trust) if temp is None else None)
    try:
        client = await subs.connect(args.transmitter, _auth_spec(args), save=temp is None)
        return await _operate(args, subs, client)
    except (DiscoveryError, AuthError, TransmitterError) as exc:
        raise CliError(str(exc)) from None
    finally:
        subs.close()
        await http.aclose()
        await writer.close()
        if temp is not None:
            temp.cleanup()


async def _operate(args, subs, client) -> int:
    from app.cli import CliError

    command = args.streams_command
    if command == "discover":
        d = client.discovery
        _emit({"operation": "discover", **d.to_json(), "auth": client.auth.kind})
        return 0
    if command == "list":
        answer = await client.list_streams()
    elif command == "get":
        answer = await client.get_stream(args.stream)
    elif command == "create":
        answer = await client.create_stream(_stream_body(args, None))
    elif command in ("update", "replace"):
        body = _stream_body(args, args.stream)
        answer = await (client.update_stream(body) if command == "update" else client.replace_stream(body))
    elif command == "delete":
        answer = await client.delete_stream(args.stream)
    elif command == "status":
        answer = await (client.set_status(args.stream, args.set, args.reason) if args.set
                        else client.get_status(args.stream))
    elif command == "subject":
        subject = _json_arg(args.subject, "subject")
        if not isinstance(subject, dict):
            raise CliError("--subject must be a JSON object, a subject identifier")
        if args.subject_command == "add":
            answer = await client.add_subject(args.stream, subject, verified=False if args.unverified else None)
        else:
            answer = await client.remove_subject(args.stream, subject)
    elif command == "verify":
        return await _verify(args, subs, client)
    elif command == "poll":
        return await _poll(args, subs, client)
    else:  # argparse keeps this unreachable
        raise CliError(f"unknown streams command {command!r}")
    _emit(answer.to_json())
    return 0


async def _stream_for_poll(args, subs, client):
    config = (await client.get_stream(args.stream)).data
    if not args.audience and isinstance(config, dict) and config.get("aud"):
        aud = config["aud"]
        subs.receiver.config.audiences = tuple(aud) if isinstance(aud, list) else (aud,)
    return config


async def _verify(args, subs, client) -> int:
    from app.core.subscriptions.client import delivery_mode

    config = await _stream_for_poll(args, subs, client)
    if delivery_mode(config) == "poll" or args.workspace is not None:
        # push: a receiver running on the same workspace (signalscope headless) stores the SET
        outcome = await subs.verify(client, config, timeout=args.timeout, watch_workspace=True)
        _emit({"operation": "verify", **outcome.to_json()})
        return 0 if outcome.result == "confirmed" else 1
    answer = await client.request_verification(args.stream)
    _emit({"operation": "verify", "stream_id": args.stream, "state": answer.data["state"], "result": "requested",
           "detail": "push stream: the verification SET goes to " + str((config.get("delivery") or {}).get("endpoint_url")),
           "exchange_id": answer.exchange_id, "notes": answer.notes, "status": answer.status})
    return 0


async def _poll(args, subs, client) -> int:
    config = await _stream_for_poll(args, subs, client)
    poller = subs.poller(client, config, acknowledge=args.ack_valid)
    if args.continuous:
        await poller.run(seconds=args.seconds, max_events=args.max_events,
                         on_outcome=lambda o: _emit({"operation": "poll", **o.to_json()}))
        return 0
    outcome = await poller.poll(max_events=args.max_events, return_immediately=True)
    _emit({"operation": "poll", **outcome.to_json()})
    final = await poller.flush()
    if final is not None:
        _emit({"operation": "poll", **final.to_json()})
    return 0
