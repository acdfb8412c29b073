"""Facts about plain webhooks that senders agree on without a standard.

`delivery_key` finds the identifier a sender keeps the same across retries of one
event (so repeats can be grouped and the sender's retry schedule measured):
Standard Webhooks/Svix `webhook-id`/`svix-id`, GitHub `X-GitHub-Delivery`,
Shopify `X-Shopify-Webhook-Id`, and Stripe's event `id` in the body (Stripe
retries resend the same event object).
"""

from __future__ import annotations

import json

_ID_HEADERS = ("webhook-id", "svix-id", "x-github-delivery", "x-shopify-webhook-id")


def delivery_key(headers: dict[str, str], body: bytes, media_type: str) -> str | None:
    """`headers` has lower-cased names. Returns None when the sender gives no stable id."""
    for name in _ID_HEADERS:
        value = headers.get(name)
        if value:
            return f"{name}:{value}"
    if "stripe-signature" in headers and media_type == "application/json" and len(body) < 1_048_576:
        try:
            event_id = json.loads(body).get("id")
        except (ValueError, AttributeError):
            return None
        if isinstance(event_id, str) and event_id:
            return f"stripe:{event_id}"
    return None
