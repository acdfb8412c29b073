"""`signalscope replay --mode resign` signs with the simulator's active key as it is, whatever its algorithm."""

import asyncio
import json
import subprocess
import sys

import aiohttp

from conftest import AUDIENCE
from peers import PeerIssuer, serve_issuer


def replay_cli(*args):
    return subprocess.run([sys.executable, "-m", "app", "replay", *args], capture_output=True, text=True, timeout=60)


async def test_resign_replay_uses_an_rs256_simulator_key_and_never_rotates_it(make_sim, tmp_path):
    ws = tmp_path / "rs.signalscope"
    sim = await make_sim(workspace=ws, key_alg="RS256")
    peer = PeerIssuer()
    server, _ = await serve_issuer(peer)
    try:
        await sim.trust_issuer(peer.issuer)
        async with aiohttp.ClientSession() as s:
            async with s.post(sim.receiver.url, data=peer.set(aud=AUDIENCE),
                              headers={"Content-Type": "application/secevent+jwt"}) as r:
                assert r.status == 202
        keys_before = sim.writer._conn.execute("SELECT kid, retired_at FROM signing_keys").fetchall()
        result = await asyncio.to_thread(replay_cli, "--workspace", str(ws), "--to", sim.receiver.url, "--id", "1",
                                         "--mode", "resign", "--issuer-as", sim.transmitter.issuer)
        assert result.returncode == 0, result.stdout + result.stderr
        outcome = json.loads(result.stdout.splitlines()[0])
        assert outcome["status"] == 202 and "RS256" in " ".join(outcome["notes"])
        assert sim.writer._conn.execute("SELECT kid, retired_at FROM signing_keys").fetchall() == keys_before
    finally:
        await server.cleanup()
