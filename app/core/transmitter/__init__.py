"""The transmitter simulator: a faithful SSF 1.0 transmitter with knobs a real one lacks.

- `streams.py`   stream configuration rules (create/update/replace/status), pure
- `keys.py`      signing keys per workspace, rotation with a grace period, the JWKS
- `sets.py`      building and signing SETs, and the fault knobs that break them on purpose
- `delivery.py`  push delivery with retries on an injectable clock, every attempt recorded
- `poll.py`      RFC 8936 poll queues
- `service.py`   `Transmitter`: the state and operations the HTTP layer and the window call
- `server.py`    the aiohttp application: discovery, JWKS, management API, poll, control
"""

from app.core.transmitter.service import EmitResult, Transmitter, TransmitterSettings

__all__ = ["Transmitter", "TransmitterSettings", "EmitResult"]
