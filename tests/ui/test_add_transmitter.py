"""Add transmitter… over the real engine: a transmitter reached with OAuth client credentials
(an SSE-era peer whose metadata is at the issuer-appended location) joins the tree with
its streams, the discovery result is shown, and the secret is cleared and never recorded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from subs_ui import ready_area


def _variant_class():
    path = Path(__file__).parents[1] / "subscriptions" / "subs_peers.py"
    spec = importlib.util.spec_from_file_location("subs_peers_for_ui", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VariantTransmitter


@pytest.fixture
def variant(window):
    peer = _variant_class()()
    window.engine_thread.submit(peer.start()).result(5)
    peer.streams["s1"] = {"stream_id": "s1", "iss": peer.issuer, "aud": "variant-aud",
                          "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "https://r.example/events"},
                          "events_requested": [], "events_delivered": [], "description": "<b>x</b><img src=x>"}
    yield peer
    if window.engine_thread is not None:
        window.engine_thread.submit(peer.stop()).result(5)


def add(area, qtbot, issuer, **fields):
    dialog = area.open_add_transmitter()
    qtbot.waitExposed(dialog)
    dialog.issuer.setText(issuer)
    kind = fields.pop("kind")
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
    for name, value in fields.items():
        getattr(dialog, name).setText(value)
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: dialog.connect_button.isEnabled(), timeout=10000)
    return dialog


def test_oauth_client_credentials_transmitter_is_added_with_its_streams(window, qtbot, variant):
    area = ready_area(window, qtbot)
    dialog = add(area, qtbot, variant.issuer, kind="client_credentials",
                 token_endpoint=f"{variant.base}/oauth/token", client_id="ci-client", client_secret="s3cret-value")
    text = dialog.result.toPlainText()
    assert text.startswith(f"Connected to {variant.issuer}.")
    assert "issuer-appended location" in text and "/tenant/.well-known/ssf-configuration" in text
    assert "The transmitter lists 1 stream(s)." in text
    assert dialog.client_secret.text() == ""  # never shown again
    qtbot.waitUntil(lambda: area.model.rowCount() == 2, timeout=5000)
    row = area.model.find_transmitter(variant.issuer).row()
    assert area.model.item(row, 1).text() == "auth: client_credentials"
    streams = area.model.item(row, 0)
    assert streams.rowCount() == 1 and streams.child(0, 0).text() == "s1"
    assert streams.child(0, 2).text() == "<b>x</b><img src=x>"  # item text: plain, never rendered
    assert variant.token_requests and variant.token_requests[0]["form"]["scope"] == "ssf.manage"
    exchanges = window.engine_thread.call(lambda e: area.channel.subs.exchanges()).result(5)
    assert all("s3cret-value" not in str(x.to_json()) for x in exchanges)
    area.select_stream("s1")
    assert area.editor.description.text() == "<b>x</b><img src=x>"
    assert "spec variant" in area.details.text()
    dialog.close()


def test_a_refused_token_is_said_in_the_dialog(window, qtbot, variant):
    area = ready_area(window, qtbot)
    dialog = add(area, qtbot, variant.issuer, kind="bearer", token="wrong")
    assert dialog.token.text() == ""
    text = dialog.result.toPlainText()
    assert text.startswith(f"Connected to {variant.issuer}.")  # discovery needs no token
    assert "Listing its streams failed: " in text and "refused the credentials (HTTP 401)" in text
    qtbot.waitUntil(lambda: area.model.rowCount() == 2, timeout=5000)
    row = area.model.find_transmitter(variant.issuer).row()
    problem = area.model.item(row, 0).child(0, 0).text()
    assert "refused the credentials (HTTP 401)" in problem
    dialog.close()


def test_an_unreachable_issuer_is_said_in_the_dialog(window, qtbot):
    area = ready_area(window, qtbot)
    dialog = add(area, qtbot, "http://127.0.0.1:9/nothing", kind="none")
    assert dialog.result.toPlainText().startswith("Could not add http://127.0.0.1:9/nothing:")
    assert area.model.rowCount() == 1
    dialog.close()


def test_forgetting_an_added_transmitter(window, qtbot, variant):
    area = ready_area(window, qtbot)
    assert not area.forget_action.isEnabled()  # the simulator is selected
    dialog = add(area, qtbot, variant.issuer, kind="bearer", token="pasted-token")
    dialog.close()
    qtbot.waitUntil(lambda: area.model.rowCount() == 2, timeout=5000)
    area.tree.setCurrentIndex(area.model.find_transmitter(variant.issuer))
    assert area.forget_action.isEnabled() and not area.delete_action.isEnabled()
    box = area.confirm_forget_transmitter()
    qtbot.waitExposed(box)
    with qtbot.waitSignal(area.refreshed, timeout=10000):
        box.button(box.StandardButton.Yes).click()
    assert area.model.rowCount() == 1
    known = window.engine_thread.call(lambda e: area.channel.subs.known_transmitters()).result(5)
    assert [k.issuer for k in known] == [window.engine_thread.engine.transmitter.issuer]
