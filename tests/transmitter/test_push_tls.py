"""https push endpoints: the system's trust store by default, an extra CA file, or (asked for)
any certificate; an untrusted one says how to trust it."""

import pytest

from app.cli import main
from app.core.engine import Engine, EngineConfig
from app.core.store.deliveries import get_delivery
from app.core.transmitter.delivery import DeliveryConfig, tls_context
from app.core.transmitter.push_client import PushClient, PushError
from conftest import settle  # at import time: the transmitter tests' conftest (names clash across folders)
from test_push_client import SET, serve, tls_files  # noqa: F401 - tls_files is a fixture
from test_sim_push import emit, open_stream


async def send_with(config: DeliveryConfig, url: str) -> int:
    client = PushClient(user_agent="t", ssl_context=tls_context(config))
    try:
        return (await client.send("POST", url, b"x", SET, 5)).status
    finally:
        await client.close()


async def test_a_self_signed_endpoint_is_refused_with_the_way_to_trust_it(tls_files):
    server_ctx, _ = tls_files
    server = await serve(ssl_context=server_ctx)
    with pytest.raises(PushError, match="--push-ca-file") as refused:
        await send_with(DeliveryConfig(), server.url)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value) and "self-signed" in str(refused.value)
    await server.stop()


async def test_its_ca_file_makes_it_trusted(tls_files):
    server_ctx, cert = tls_files
    server = await serve(ssl_context=server_ctx)
    assert await send_with(DeliveryConfig(ca_file=str(cert)), server.url) == 202
    await server.stop()


async def test_insecure_accepts_any_certificate(tls_files):
    server_ctx, _ = tls_files
    server = await serve(ssl_context=server_ctx)
    assert await send_with(DeliveryConfig(verify_tls=False), server.url) == 202
    await server.stop()


def test_an_unreadable_ca_file_is_a_sentence_and_status_2(tmp_path, capsys):
    from app.core.store.schema import open_workspace

    open_workspace(tmp_path / "ws.signalscope").close()
    rc = main(["replay", "--workspace", str(tmp_path / "ws.signalscope"), "--to", "https://127.0.0.1:9/x",
               "--push-ca-file", str(tmp_path / "missing.pem")])
    assert rc == 2 and "cannot read the CA file" in capsys.readouterr().err


async def test_the_engines_tls_settings_reach_the_simulators_pushes(tmp_path, tls_files):
    server_ctx, cert = tls_files
    server = await serve(ssl_context=server_ctx)
    results = {}
    for name, options in (("default", {}), ("ca file", {"push_ca_file": str(cert)}),
                          ("insecure", {"push_verify_tls": False})):
        engine = Engine(EngineConfig(workspace=tmp_path / f"{len(results)}.signalscope", **options))
        await engine.start()
        try:
            stream_id = await open_stream(engine, server.url)
            [d] = await emit(engine, stream_id)
            await settle(engine)
            delivery = get_delivery(engine.writer._conn, d)
            first = delivery["attempts"][0]
            results[name] = first["status"] or first["error"]
        finally:
            await engine.stop()
    await server.stop()
    assert results["ca file"] == 202 and results["insecure"] == 202
    assert "CERTIFICATE_VERIFY_FAILED" in results["default"] and "Push CA file" in results["default"]
