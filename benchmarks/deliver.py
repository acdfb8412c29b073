"""Push delivery throughput of the simulator, and the cost of 10,000 pending retries.

1. Throughput. A bare aiohttp server that answers 202 runs in its own process. In this
   process, in alternating rounds:
     engine    - the simulator's whole path: build and sign each SET (jwcrypto), insert the
                 delivery, POST it (64 in flight), record the attempt, durable commits
     loop      - a bare aiohttp ClientSession loop posting pre-signed bodies, 64 in flight
     httpx     - the same loop with an httpx.AsyncClient (first round only: why the
                 delivery path uses aiohttp)
   Target: engine >= 0.60x loop (the engine signs and records, the loop does neither).
2. Pending retries. 10,000 deliveries waiting for a retry in a workspace; a fresh
   process starts the simulator on it: memory added and time to reschedule them all.
   Targets: < 100 MB added, < 2 s.

Usage: python benchmarks/deliver.py [--sets 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IN_FLIGHT = 64
SR = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


async def serve_bare(port_file: Path) -> None:
    from aiohttp import web

    async def handle(request):
        await request.read()
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/events", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_file.write_text(str(site._server.sockets[0].getsockname()[1]))
    await asyncio.Event().wait()


def start_bare(tmp: Path) -> tuple[subprocess.Popen, str]:
    port_file = tmp / "bare.port"
    proc = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port_file)])
    for _ in range(300):
        if port_file.exists() and port_file.read_text():
            break
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port_file.read_text()}/events"


async def engine_round(url: str, workspace: Path, n: int) -> float:
    from app.core.engine import Engine, EngineConfig

    engine = Engine(EngineConfig(workspace=workspace))
    await engine.start()
    t = engine.transmitter
    stream, _ = await t.create({"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": url},
                                "events_requested": [SR]})
    subject = {"format": "email", "email": "jane@example.com"}
    start = time.perf_counter()
    batch = 200
    for _ in range(n // batch):  # emit in batches, letting deliveries run between them
        await t.emit(event_type=SR, subject=subject, stream_id=stream.stream_id, count=batch)
        await asyncio.sleep(0)
    conn = engine.writer._conn
    while conn.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    delivered = conn.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'").fetchone()[0]
    await engine.stop()
    assert delivered == (n // batch) * batch, delivered
    return delivered / elapsed


def presigned(n: int) -> list[bytes]:
    from jwcrypto import jwk, jws

    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k")
    out = []
    for i in range(n):
        s = jws.JWS(json.dumps({"iss": "x", "iat": 1, "jti": str(i), "events": {SR: {}}}).encode())
        s.add_signature(key, alg="ES256", protected=json.dumps({"alg": "ES256", "typ": "secevent+jwt", "kid": "k"}))
        out.append(s.serialize(compact=True).encode())
    return out


async def aiohttp_loop(url: str, bodies: list[bytes]) -> float:
    import aiohttp

    headers = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}
    queue = list(bodies)

    async def worker(session):
        while queue:
            body = queue.pop()
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as r:
                await r.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(IN_FLIGHT)))
        return len(bodies) / (time.perf_counter() - start)


async def httpx_loop(url: str, bodies: list[bytes]) -> float:
    import httpx

    headers = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}
    queue = list(bodies)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)

    async def worker(client):
        while queue:
            body = queue.pop()
            (await client.post(url, content=body, headers=headers)).raise_for_status()

    async with httpx.AsyncClient(limits=limits, follow_redirects=False, trust_env=False) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(IN_FLIGHT)))
        return len(bodies) / (time.perf_counter() - start)


# -- pending retries ---------------------------------------------------------------

def make_pending(workspace: Path, n: int) -> None:
    """n push deliveries, each with one failed attempt and a retry due in an hour."""
    async def build():
        from app.core.engine import Engine, EngineConfig
        from app.core.store import deliveries as store
        from app.core.transmitter import sets

        engine = Engine(EngineConfig(workspace=workspace))
        await engine.start()
        t = engine.transmitter
        stream, _ = await t.create({"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "http://127.0.0.1:9/x"},
                                    "events_requested": [SR]})
        now = time.time()
        items, attempts = [], []
        for i in range(n):
            claims = sets.build_claims(sets.SetRequest(t.issuer, stream.aud, SR, {"initiating_entity": "policy"},
                                                       {"format": "email", "email": f"u{i}@example.com"}, now))
            items.append(store.NewDelivery(stream.stream_id, claims["jti"], SR, sets.sign(claims, t.keys.active).encode(),
                                           "push", "http://127.0.0.1:9/x", now, "simulator"))
        ids = await engine.writer.run(store.insert_deliveries(items))
        for i in ids:
            attempts.append(store.record_attempt(store.AttemptRecord(i, 1, now, now, 503, None, 1.0, [], "",
                                                                     None, now + 3600, "retry", "HTTP 503"),
                                                 state="pending"))
        await asyncio.gather(*(engine.writer.run(op) for op in attempts))
        await engine.stop()

    asyncio.run(build())


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_reschedule(workspace: str) -> None:
    """(child process) start the engine on a workspace with pending retries."""
    import app.core.engine  # noqa: F401 - imports first, so the figure is the rescheduling alone
    from app.core.engine import Engine, EngineConfig

    async def run():
        import gc

        gc.collect()
        before = rss_mb()
        engine = Engine(EngineConfig(workspace=Path(workspace)))
        start = time.perf_counter()
        await engine.start()
        elapsed = time.perf_counter() - start
        gc.collect()
        added = rss_mb() - before
        count = engine.transmitter.rescheduled
        await engine.stop()
        print(json.dumps({"rescheduled": count, "seconds": elapsed, "added_mb": added}))

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pending", type=int, default=10000)
    parser.add_argument("--serve-bare")
    parser.add_argument("--measure-reschedule")
    args = parser.parse_args()
    if args.serve_bare:
        asyncio.run(serve_bare(Path(args.serve_bare)))
        return
    if args.measure_reschedule:
        measure_reschedule(args.measure_reschedule)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        proc, url = start_bare(tmp)
        try:
            bodies = presigned(args.sets)
            engine_rates, loop_rates, ratios = [], [], []
            httpx_rate = asyncio.run(httpx_loop(url, bodies[: min(1000, args.sets)]))
            print(f"httpx loop           {httpx_rate:7.0f} req/s ({IN_FLIGHT} in flight; reference for the client choice)")
            for r in range(args.rounds):
                loop_rate = asyncio.run(aiohttp_loop(url, bodies))
                engine_rate = asyncio.run(engine_round(url, tmp / f"engine{r}.signalscope", args.sets))
                loop_rates.append(loop_rate)
                engine_rates.append(engine_rate)
                ratios.append(engine_rate / loop_rate)
                print(f"round {r + 1}: aiohttp loop {loop_rate:7.0f} req/s, engine {engine_rate:7.0f} SETs/s "
                      f"(signed, sent, recorded), ratio {engine_rate / loop_rate:.2f}", flush=True)
        finally:
            proc.terminate()
            proc.wait(10)
        med = statistics.median
        print()
        print(f"aiohttp loop         {med(loop_rates):7.0f} req/s (median of {args.rounds})")
        print(f"engine               {med(engine_rates):7.0f} SETs/s (median of {args.rounds})")
        print(f"engine / loop        {med(ratios):.2f} (per-round {', '.join(f'{x:.2f}' for x in ratios)}; target >= 0.60)")
        print(f"httpx / aiohttp      {httpx_rate / med(loop_rates):.2f}")
        ws = tmp / "pending.signalscope"
        start = time.perf_counter()
        make_pending(ws, args.pending)
        print(f"\n{args.pending} pending retries written in {time.perf_counter() - start:.1f} s")
        out = subprocess.run([sys.executable, __file__, "--measure-reschedule", str(ws)], capture_output=True,
                             text=True, timeout=120)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"restart: {result['rescheduled']} retries rescheduled in {result['seconds']:.2f} s (target < 2 s), "
              f"{result['added_mb']:.1f} MB added (target < 100 MB)")


if __name__ == "__main__":
    main()
