"""Secrets kept out of what is shown, logged or stored: one place for the rules both the
exchange log (app/core/subscriptions/exchanges.py) and the push client's messages use."""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_USERINFO_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/?#\s@:]*:)[^/?#\s@]*@")


def redact_url(text: str) -> str:
    """`text` with the password of every URL userinfo in it replaced."""
    return _USERINFO_PASSWORD.sub(lambda m: m.group(1) + REDACTED + "@", text) if "@" in text else text
