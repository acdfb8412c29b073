"""`signalscope emit`: ask a running transmitter simulator to emit an event (for CI jobs).

It calls the simulator's control endpoint (`POST {transmitter}/control/emit`, bearer
management token) and prints the simulator's answer as one JSON line: which
deliveries were created, and which streams skipped the event and why. Exit status 0
when at least one delivery was created, 1 when every stream skipped it, 2 with one
sentence on stderr for anything else (bad JSON argument, no simulator there, refused).
"""

from __future__ import annotations

import argparse
import json
import sys


def add_emit_parser(sub) -> None:
    em = sub.add_parser("emit", help="emit an event from a running transmitter simulator")
    em.add_argument("--transmitter", required=True, help="the simulator's URL (transmitter_url of the ready line)")
    em.add_argument("--token", required=True, help="the management token (management_token of the ready line)")
    em.add_argument("--stream", help="stream id (default: every stream that wants the event)")
    em.add_argument("--event", required=True, help="event type URI or catalogue name, e.g. session-revoked")
    em.add_argument("--subject", required=True, help='subject identifier as JSON, e.g. \'{"format":"email","email":"a@b.c"}\'')
    em.add_argument("--claims", help="event payload claims as a JSON object (override the template)")
    em.add_argument("--fault", action="append", default=[], help="a fault knob (repeatable): unknown_key, wrong_aud, ...")
    em.add_argument("--count", type=int, default=1, help="how many SETs (a batch)")
    em.add_argument("--txn", help="txn claim")
    em.add_argument("--force", action="store_true", help="ignore events_delivered and subject filters")


def _json_arg(text: str | None, name: str):
    from app.cli import CliError

    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"--{name} is not valid JSON ({exc})") from None


def run_emit(args: argparse.Namespace) -> int:
    import httpx

    from app.cli import CliError

    body = {"event_type": args.event, "subject": _json_arg(args.subject, "subject"), "count": args.count,
            "faults": args.fault, "force": args.force}
    claims = _json_arg(args.claims, "claims")
    if claims is not None:
        body["claims"] = claims
    if args.stream:
        body["stream_id"] = args.stream
    if args.txn:
        body["txn"] = args.txn
    url = args.transmitter.rstrip("/") + "/control/emit"
    try:
        response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {args.token}"}, timeout=10.0,
                              follow_redirects=False, trust_env=False)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach the transmitter at {args.transmitter}: {exc}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code not in (200, 409) or not isinstance(answer, dict):
        why = answer.get("description") if isinstance(answer, dict) else response.text[:200]
        raise CliError(f"the transmitter refused the emit (HTTP {response.status_code}): {why}")
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0 if answer.get("emitted") else 1
