"""Subscribing to SSF transmitters (issue 5): discovery, authorization, stream management,
poll, verification round trips, and a record of every exchange.

- `discovery.py`     metadata at the well-known location (with the legacy fallbacks), validated
- `auth.py`          bearer token or OAuth 2.0 client credentials, refreshed before expiry
- `exchanges.py`     every HTTP exchange performed, redacted, stored and announced on the bus
- `client.py`        `TransmitterClient`: the SSF 1.0 section 8 operations, spec variants tolerated
- `poller.py`        the RFC 8936 poll client; polled SETs are verified and captured like pushed ones
- `verification.py`  verification round trips matched by `state`, with mismatch and timeout
- `service.py`       `Subscriptions`: the composition the window and the CLI use
"""

from app.core.subscriptions.auth import AuthError, AuthSpec
from app.core.subscriptions.client import Answer, TransmitterClient, TransmitterError
from app.core.subscriptions.discovery import Discovery, DiscoveryError
from app.core.subscriptions.exchanges import Exchange, ExchangeRecorded
from app.core.subscriptions.poller import PolledSet, PollOutcome
from app.core.subscriptions.service import KnownTransmitter, Subscriptions
from app.core.subscriptions.verification import VerificationOutcome

__all__ = ["Answer", "AuthError", "AuthSpec", "Discovery", "DiscoveryError", "Exchange", "ExchangeRecorded",
           "KnownTransmitter", "PolledSet", "PollOutcome", "Subscriptions", "TransmitterClient", "TransmitterError",
           "VerificationOutcome"]
