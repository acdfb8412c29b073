"""https push endpoints: the system's trust store by default, an extra CA file, or (asked for)
any certificate; an untrusted one says how to trust it."""

import pytest

from app.cli import main
from app.core.transmitter.delivery import DeliveryConfig, tls_context
from app.core.transmitter.push_client import PushClient, PushError
from test_push_client import SET, serve, tls_files  # noqa: F401 - tls_files is a fixture


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
