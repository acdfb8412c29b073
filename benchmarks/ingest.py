"""Ingest throughput: ES256-signed SETs pushed at saturation (64 connections).

Three servers, each in its own process, driven by the same load generator in this
process, one after the other in the same run:
  product  - the real receiver (decode, verify with jwcrypto, durable commit, FTS index)
  minimal  - a hand-written minimal pipeline: aiohttp handler + jwcrypto JWS.deserialize
             with the key imported once + batched SQLite insert, answered after commit
  bare     - an aiohttp handler that returns 202 and does nothing else
Prints each rate and the ratios. Usage: python benchmarks/ingest.py [--seconds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONNECTIONS = 64
ISSUER = "https://bench-idp.example.com"


def make_key():
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    private = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid="bench", alg="ES256", use="sig")
    return private, jwk


def make_tokens(private, n: int) -> list[bytes]:
    import jwt

    now = int(time.time())
    out = []
    for i in range(n):
        claims = {"iss": ISSUER, "iat": now, "jti": uuid.uuid4().hex, "aud": "https://receiver.example.com", "txn": str(i),
                  "sub_id": {"format": "email", "email": f"user{i}@example.com"},
                  "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked":
                             {"event_timestamp": now, "initiating_entity": "policy"}}}
        out.append(jwt.encode(claims, private, algorithm="ES256", headers={"kid": "bench", "typ": "secevent+jwt"}).encode())
    return out


# -- servers (run in child processes) ------------------------------------------------

async def serve_bare(port_file: Path):
    from aiohttp import web

    async def handle(request):
        await request.read()
        return web.Response(status=202)

    await _run_app(web, handle, port_file)


async def serve_minimal(port_file: Path, jwk: dict, db: Path):
    from aiohttp import web
    from jwcrypto.jwk import JWK
    from jwcrypto.jws import JWS

    key = JWK(**jwk)
    conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS sets (id INTEGER PRIMARY KEY, jti TEXT, body BLOB, claims TEXT)")
    pending: list = []
    flushing = False
    loop = asyncio.get_running_loop()

    def commit(rows):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO sets (jti, body, claims) VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")

    async def flush():
        nonlocal flushing, pending
        while pending:
            batch, pending = pending, []
            await loop.run_in_executor(None, commit, [row for row, _ in batch])
            for _, fut in batch:
                fut.set_result(None)
        flushing = False

    async def handle(request):
        nonlocal flushing
        body = await request.read()
        jws = JWS()
        try:
            jws.deserialize(body.decode(), key=key)
        except Exception:
            return web.json_response({"err": "invalid_key", "description": "bad signature"}, status=400)
        claims = json.loads(jws.payload)
        fut = loop.create_future()
        pending.append(((claims["jti"], body, json.dumps(claims)), fut))
        if not flushing:
            flushing = True
            loop.create_task(flush())
        await fut
        return web.Response(status=202)

    await _run_app(web, handle, port_file)


async def serve_product(port_file: Path, jwk: dict, db: Path):
    from app.core.engine import Engine, EngineConfig

    engine = Engine(EngineConfig(workspace=db, audiences=("https://receiver.example.com",)))
    await engine.start()
    await engine.trust_issuer(ISSUER, jwks={"keys": [jwk]})
    port_file.write_text(str(engine.receiver.port))
    await asyncio.Event().wait()


async def _run_app(web, handle, port_file: Path):
    app = web.Application()
    app.router.add_post("/events", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_file.write_text(str(site._server.sockets[0].getsockname()[1]))
    await asyncio.Event().wait()


# -- load generator -------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(url: str, tokens: list[bytes], seconds: float, pid: int | None = None) -> tuple[float, dict, float]:
    import aiohttp

    statuses: dict[int, int] = {}
    done = 0
    deadline = 0.0
    index = 0
    headers = {"Content-Type": "application/secevent+jwt"}

    async def worker(session):
        nonlocal done, index
        while time.perf_counter() < deadline:
            token = tokens[index % len(tokens)]
            index += 1
            async with session.post(url, data=token, headers=headers) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
                done += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as session:
        deadline = time.perf_counter() + 1.0  # warm-up
        await asyncio.gather(*(worker(session) for _ in range(CONNECTIONS)))
        done, statuses = 0, {}
        cpu_before = cpu_seconds(pid) if pid else 0.0
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(worker(session) for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - start
        cpu = (cpu_seconds(pid) - cpu_before) if pid else 0.0
    return done / elapsed, statuses, (cpu / done * 1e6 if done else 0.0)


def run_server(kind: str, workdir: Path, jwk: dict, tokens_count: int, seconds: float, tokens: list[bytes]):
    workdir.mkdir(parents=True, exist_ok=True)
    port_file = workdir / f"{kind}.port"
    db = workdir / f"{kind}.sqlite"
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port-file", str(port_file), "--db", str(db),
                             "--jwk", json.dumps(jwk)])
    try:
        for _ in range(300):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}/events"
        rate, statuses, cpu_us = asyncio.run(drive(url, tokens, seconds, proc.pid))
    finally:
        proc.terminate()
        proc.wait(10)
    return rate, statuses, cpu_us


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per server per round")
    parser.add_argument("--rounds", type=int, default=3, help="minimal and product alternate this many times")
    parser.add_argument("--serve")
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--jwk")
    args = parser.parse_args()
    if args.serve:
        jwk = json.loads(args.jwk)
        coro = {"bare": lambda: serve_bare(args.port_file),
                "minimal": lambda: serve_minimal(args.port_file, jwk, args.db),
                "product": lambda: serve_product(args.port_file, jwk, args.db)}[args.serve]()
        asyncio.run(coro)
        return
    private, jwk = make_key()
    tokens = make_tokens(private, 20000)
    rates: dict[str, list[float]] = {"bare": [], "minimal": [], "product": []}
    cpus: dict[str, list[float]] = {"bare": [], "minimal": [], "product": []}
    ratios, cpu_ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            for kind in ("bare", "minimal", "product") if round_no == 0 else ("minimal", "product"):
                # Fresh tokens per server and round: repeats would take the dedup path.
                sample = tokens[round_no % 2::2] if kind != "bare" else tokens
                rate, statuses, cpu_us = run_server(kind, Path(tmp) / f"r{round_no}", jwk, len(sample), args.seconds, sample)
                rates[kind].append(rate)
                cpus[kind].append(cpu_us)
                print(f"round {round_no + 1} {kind:8s} {rate:7.0f} req/s  {cpu_us:6.0f} us CPU/request  statuses {statuses}", flush=True)
            ratios.append(rates["product"][-1] / rates["minimal"][-1])
            cpu_ratios.append(cpus["product"][-1] / cpus["minimal"][-1])
    med = statistics.median
    print()
    print(f"bare handler        {med(rates['bare']):7.0f} req/s (load generator in the same 2-core machine)")
    print(f"minimal pipeline    {med(rates['minimal']):7.0f} SETs/s (median of {args.rounds})")
    print(f"product receiver    {med(rates['product']):7.0f} SETs/s (median of {args.rounds})")
    print(f"product / minimal   {med(ratios):.2f} (median of per-round ratios {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.90)")
    print(f"product / bare      {med(rates['product']) / med(rates['bare']):.2f}")
    print(f"server CPU per request: bare {med(cpus['bare']):.0f} us, minimal {med(cpus['minimal']):.0f} us, "
          f"product {med(cpus['product']):.0f} us (product/minimal {med(cpus['product']) / med(cpus['minimal']):.2f})")
    # On a shared machine the rates swing with the neighbours' load; CPU per request much less.
    print(f"CPU per request, product / minimal: {med(cpu_ratios):.2f} (median of per-round ratios "
          f"{', '.join(f'{r:.2f}' for r in cpu_ratios)}); at equal CPU the product would ingest "
          f"{1 / med(cpu_ratios):.2f}x the minimal pipeline")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
