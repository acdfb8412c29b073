"""Settings a person edits in the window, persisted in the workspace.

One JSON row in the `settings` table ('receiver_settings'), so a workspace
carries its receiver set-up with it. Writes are `op(conn)` operations like every
other store write: run them on the engine's writer, or on a connection of your
own while no engine has the workspace open.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the window imports this module before its first paint: keep it light
    import sqlite3

KEY = "receiver_settings"
THEMES = ("system", "light", "dark")


@dataclass
class ReceiverSettings:
    receiver_port: int = 0  # 0: a free port (the window then keeps the one it got)
    transmitter_port: int = 0  # the simulator's, likewise: its issuer URL then stays the same between runs
    push_ca_file: str | None = None  # https push/replay endpoints: also trust these CA certificates
    push_insecure: bool = False  # https push/replay endpoints: accept any certificate
    receiver_token: str | None = None
    audiences: tuple[str, ...] = ()
    body_limit: int = 1024 * 1024
    theme: str = "system"
    extra: dict = field(default_factory=dict)  # keys written by a newer version, kept as they were

    @classmethod
    def from_json(cls, data: dict) -> "ReceiverSettings":
        known = {"receiver_port", "transmitter_port", "receiver_token", "audiences", "body_limit", "theme",
                 "push_ca_file", "push_insecure"}
        port = int(data.get("receiver_port", 0))
        sim_port = int(data.get("transmitter_port", 0))
        limit = int(data.get("body_limit", 1024 * 1024))
        theme = data.get("theme", "system")
        return cls(
            receiver_port=port if 0 <= port <= 65535 else 0,
            transmitter_port=sim_port if 0 <= sim_port <= 65535 else 0,
            receiver_token=data.get("receiver_token") or None,
            audiences=tuple(a for a in data.get("audiences", ()) if isinstance(a, str) and a),
            body_limit=limit if limit > 0 else 1024 * 1024,
            theme=theme if theme in THEMES else "system",
            push_ca_file=data.get("push_ca_file") if isinstance(data.get("push_ca_file"), str) and data.get("push_ca_file") else None,
            push_insecure=data.get("push_insecure") is True,
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_json(self) -> dict:
        data = asdict(self)
        extra = data.pop("extra")
        data["audiences"] = list(self.audiences)
        return {**extra, **data}


def load_settings(conn: sqlite3.Connection) -> ReceiverSettings:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (KEY,)).fetchone()
    if not row:
        return ReceiverSettings()
    try:
        return ReceiverSettings.from_json(json.loads(row[0]))
    except (ValueError, TypeError, AttributeError):
        return ReceiverSettings()


def save_settings_op(settings: ReceiverSettings):
    text = json.dumps(settings.to_json())

    def op(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                     " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (KEY, text))

    return op


def engine_options(workspace: Path, settings: ReceiverSettings) -> dict:
    """Keyword arguments for EngineConfig (a dict, so the caller need not import the engine)."""
    return {
        "workspace": Path(workspace),
        "receiver_port": settings.receiver_port,
        "transmitter_port": settings.transmitter_port,
        "transmitter_port_fallback": True,  # a kept port taken by something else must not stop the window
        "receiver_token": settings.receiver_token,
        "audiences": tuple(settings.audiences),
        "body_limit": settings.body_limit,
        "push_ca_file": settings.push_ca_file,
        "push_verify_tls": not settings.push_insecure,
    }


def trusted_issuers(conn: sqlite3.Connection) -> list[tuple[str, str | None, bool]]:
    """(issuer, jwks_url, has inline JWKS) for each trusted issuer."""
    return [(i, u, j is not None) for i, u, j in
            conn.execute("SELECT issuer, jwks_url, jwks FROM trusted_issuers ORDER BY issuer")]
