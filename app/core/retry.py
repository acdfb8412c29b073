"""Retry policies for outgoing deliveries: pure code, no I/O, no sleeping.

A `RetryPolicy` is a schedule (explicit delays, or exponential backoff) plus limits
(attempts, age) and jitter. `classify_response` turns what one attempt got back into
an `AttemptOutcome`; `plan_next` turns a policy, the attempt count, the outcome and a
clock reading into the time of the next attempt (or None: stop). The clock reading and
the random source are arguments, so tests and timelines need no real time.

Status classification (WEBHOOK-NOTES 2.2, RFC 8935):
  2xx                      -> delivered
  400 (with RFC 8935 err)  -> failed, not retried (the same SET would be refused again)
  410 Gone                 -> failed, stop, and the caller disables the stream
  429, 503                 -> retry, honouring Retry-After (never earlier than it says)
  3xx                      -> failed attempt (redirects are never followed), retried
  other 4xx, 5xx           -> retried
  timeout / connection     -> retried
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

DELIVERED, RETRY, REJECTED, GONE = "delivered", "retry", "rejected", "gone"
MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    name: str
    title: str
    delays: tuple[float, ...] = ()  # explicit: delay before retry 1, 2, ... (after the previous attempt)
    base: float | None = None  # exponential: base * factor**(k-1), capped at max_delay
    factor: float = 2.0
    max_delay: float = 86400.0
    max_attempts: int | None = None  # including the first; None: limited by max_age only
    max_age: float | None = None  # seconds since the delivery was created
    jitter: float = 0.0  # +- this fraction of each delay
    jitter_abs: float = 0.0  # plus 0..jitter_abs seconds
    timeout: float = 10.0  # response deadline of one attempt
    source: str = ""
    growth: str = "exponential"  # with `base`: exponential (base*factor^(k-1)), linear (base*k) or fixed (base)
    honor_retry_after: bool = True
    retry_statuses: tuple[int, ...] | None = None  # None: the default classification; else only these are retried

    @property
    def attempt_limit(self) -> int | None:
        if self.max_attempts is not None:
            return self.max_attempts
        if self.base is None:
            return len(self.delays) + 1
        return None

    def base_delay(self, retry_number: int) -> float | None:
        """Delay before retry `retry_number` (1 = the first retry), before jitter; None: no such retry."""
        if retry_number < 1:
            raise ValueError("retry numbers start at 1")
        limit = self.attempt_limit
        if limit is not None and retry_number + 1 > limit:
            return None
        if self.base is None:
            return self.delays[retry_number - 1] if retry_number <= len(self.delays) else None
        if self.growth == "fixed":
            return min(self.base, self.max_delay)
        if self.growth == "linear":
            return min(self.base * retry_number, self.max_delay)
        return min(self.base * self.factor ** (retry_number - 1), self.max_delay)

    def to_json(self) -> dict:
        return {
            "name": self.name, "title": self.title, "delays": list(self.delays), "base": self.base,
            "factor": self.factor, "max_delay": self.max_delay, "max_attempts": self.max_attempts,
            "attempt_limit": self.attempt_limit,
            "max_age": self.max_age, "jitter": self.jitter, "jitter_abs": self.jitter_abs,
            "timeout": self.timeout, "source": self.source, "growth": self.growth,
            "honor_retry_after": self.honor_retry_after,
            "retry_statuses": list(self.retry_statuses) if self.retry_statuses is not None else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> "RetryPolicy":
        """A policy from the editor's JSON; a bad field raises PolicyError naming it."""
        if not isinstance(data, dict):
            raise PolicyError("a policy is a JSON object")
        unknown = set(data) - set(cls.__dataclass_fields__) - {"attempt_limit"}  # derived, ignored
        if unknown:
            raise PolicyError(f"unknown field(s) {', '.join(sorted(unknown))}")

        def number(name, default, *, minimum=0.0, allow_none=False):
            value = data.get(name, default)
            if value is None and allow_none:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
                raise PolicyError(f"'{name}' must be a number >= {minimum:g}")
            return float(value)

        delays = data.get("delays", [])
        if not isinstance(delays, list) or not all(isinstance(d, (int, float)) and not isinstance(d, bool) and d >= 0
                                                   for d in delays):
            raise PolicyError("'delays' must be a list of seconds >= 0")
        growth = data.get("growth", "exponential")
        if growth not in ("exponential", "linear", "fixed"):
            raise PolicyError("'growth' must be exponential, linear or fixed")
        base = number("base", None, allow_none=True)
        if base is None and not delays and data.get("max_attempts") not in (None, 1):
            raise PolicyError("give either 'delays' or 'base'")
        max_attempts = data.get("max_attempts")
        if max_attempts is not None and (isinstance(max_attempts, bool) or not isinstance(max_attempts, int)
                                         or max_attempts < 1):
            raise PolicyError("'max_attempts' must be a whole number >= 1")
        statuses = data.get("retry_statuses")
        if statuses is not None and (not isinstance(statuses, list) or not all(
                isinstance(x, int) and not isinstance(x, bool) and 100 <= x <= 599 for x in statuses)):
            raise PolicyError("'retry_statuses' must be a list of HTTP statuses")
        if not isinstance(data.get("honor_retry_after", True), bool):
            raise PolicyError("'honor_retry_after' must be true or false")
        return cls(
            name=str(data.get("name") or "custom"), title=str(data.get("title") or data.get("name") or "Custom policy"),
            delays=tuple(float(d) for d in delays), base=base, factor=number("factor", 2.0),
            max_delay=number("max_delay", 86400.0), max_attempts=max_attempts,
            max_age=number("max_age", None, allow_none=True), jitter=number("jitter", 0.0),
            jitter_abs=number("jitter_abs", 0.0), timeout=number("timeout", 10.0, minimum=0.001),
            source=str(data.get("source", "")), growth=growth, honor_retry_after=data.get("honor_retry_after", True),
            retry_statuses=tuple(statuses) if statuses is not None else None,
        )


class PolicyError(ValueError):
    """A policy from the editor is not usable; the message names the field."""


MIN, HOUR, DAY = 60.0, 3600.0, 86400.0

PRESETS: dict[str, RetryPolicy] = {
    p.name: p
    for p in (
        RetryPolicy("simulator", "Signalscope simulator (made for watching)", (1, 5, 30, 2 * MIN, 10 * MIN),
                    jitter=0.1, timeout=10, source="1 s, 5 s, 30 s, 2 min, 10 min"),
        RetryPolicy("svix", "Svix", (5, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR),
                    timeout=15, source="immediately, 5 s, 5 m, 30 m, 2 h, 5 h, 10 h, 10 h"),
        RetryPolicy("standard-webhooks", "Standard Webhooks",
                    (5, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR),
                    jitter=0.1, timeout=15, source="immediately, 5 s, 5 m, 30 m, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h + jitter"),
        RetryPolicy("stripe", "Stripe-like (3 days)", base=MIN, factor=2.0, max_delay=12 * HOUR, max_age=3 * DAY,
                    jitter=0.1, timeout=10,
                    source="exponential for up to 3 days (Stripe publishes no intervals: 1 min doubling, capped at 12 h)"),
        RetryPolicy("akamai-v3", "Akamai Identity Cloud webhooks v3", (3, 30, 5 * MIN, HOUR, DAY),
                    timeout=10, source="5 retries: 3 s, 30 s, 5 m, 1 h, 24 h"),
        RetryPolicy("slack", "Slack Events API", (0, MIN, 5 * MIN), timeout=3,
                    source="3 retries: immediately, 1 min, 5 min; 3 s deadline"),
        RetryPolicy("github", "GitHub (no retries)", (), timeout=10, source="no automatic retries; 10 s deadline"),
        RetryPolicy("convoy", "Convoy (old default exponential)", (10, 30, MIN, 3 * MIN, 5 * MIN, 10 * MIN, 15 * MIN),
                    jitter_abs=5.0, timeout=10, source="10 s, 30 s, 1 m, 3 m, 5 m, 10 m, 15 m + <5 s jitter"),
    )
}
DEFAULT_POLICY = "simulator"


def get_policy(name: str) -> RetryPolicy:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown retry policy {name!r}; known: {', '.join(PRESETS)}") from None


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt amounted to."""

    kind: str  # DELIVERED | RETRY | REJECTED | GONE
    reason: str
    err: str | None = None  # RFC 8935 err code from a 400 body
    retry_after: float | None = None  # seconds, from a Retry-After header
    status: int | None = None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return min(max(when.timestamp() - now, 0.0), MAX_RETRY_AFTER)


def rfc8935_error(body: bytes) -> tuple[str | None, str | None]:
    """(err, description) from an RFC 8935 error body, or (None, None)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if isinstance(data, dict) and isinstance(data.get("err"), str):
        desc = data.get("description")
        return data["err"], desc if isinstance(desc, str) else None
    return None, None


def classify_response(status: int | None, headers: Mapping[str, str] | None = None, body: bytes = b"", *,
                      error: str | None = None, now: float = 0.0) -> AttemptOutcome:
    """Classify one attempt: an HTTP status with its headers and body, or a transport `error`."""
    if status is None:
        return AttemptOutcome(RETRY, error or "no response")
    if 200 <= status < 300:  # the common case first: no header or body to look at
        if status == 202:
            return AttemptOutcome(DELIVERED, "HTTP 202", status=202)
        return AttemptOutcome(DELIVERED, f"HTTP {status} (RFC 8935 expects 202, got {status})", status=status)
    return replace(_classify(status, headers, body, now), status=status)


def _classify(status, headers, body, now) -> AttemptOutcome:
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if status == 400:
        err, desc = rfc8935_error(body)
        if err:
            return AttemptOutcome(REJECTED, f"HTTP 400 {err}: {desc or ''}".rstrip(": "), err=err)
        return AttemptOutcome(REJECTED, "HTTP 400 without an RFC 8935 err body")
    if status == 410:
        return AttemptOutcome(GONE, "HTTP 410 Gone: the endpoint asked to stop")
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        note = f", Retry-After {retry_after:.0f} s" if retry_after is not None else ", no Retry-After"
        return AttemptOutcome(RETRY, f"HTTP {status}{note}", retry_after=retry_after)
    if 300 <= status < 400:
        where = headers.get("location")
        return AttemptOutcome(RETRY, f"HTTP {status} redirect to {where!r}, not followed")
    return AttemptOutcome(RETRY, f"HTTP {status}")


@dataclass
class RetryPlan:
    """When (if ever) the next attempt happens, and why."""

    next_at: float | None
    reason: str
    delay: float | None = None


def plan_next(policy: RetryPolicy, attempts_made: int, outcome: AttemptOutcome, *, now: float, created_at: float,
              rng: random.Random | None = None) -> RetryPlan:
    """The next attempt after `attempts_made` attempts, the last of which ended at `now` with `outcome`."""
    if outcome.kind == DELIVERED:
        return RetryPlan(None, "delivered")
    if outcome.kind in (REJECTED, GONE):
        return RetryPlan(None, "not retried: " + outcome.reason)
    if policy.retry_statuses is not None and outcome.status is not None and outcome.status not in policy.retry_statuses:
        return RetryPlan(None, f"not retried: policy {policy.name} retries only {_statuses(policy.retry_statuses)}")
    delay = policy.base_delay(attempts_made)
    if delay is None:
        limit = policy.attempt_limit
        return RetryPlan(None, f"gave up after {attempts_made} attempt{'s' if attempts_made != 1 else ''}"
                               + (f" (policy {policy.name} allows {limit})" if limit else ""))
    rng = rng or random.Random()
    if policy.jitter:
        delay *= 1 + rng.uniform(-policy.jitter, policy.jitter)
    if policy.jitter_abs:
        delay += rng.uniform(0, policy.jitter_abs)
    delay = max(delay, 0.0)
    reason = f"retry {attempts_made} of policy {policy.name}"
    if policy.honor_retry_after and outcome.retry_after is not None and outcome.retry_after > delay:
        delay, reason = outcome.retry_after, f"{reason}, delayed by Retry-After"
    next_at = now + delay
    if policy.max_age is not None and next_at - created_at > policy.max_age:
        return RetryPlan(None, f"gave up: the next retry would be past the policy's {policy.max_age / 3600:.0f} h limit")
    return RetryPlan(next_at, reason, delay)


def _statuses(statuses: tuple[int, ...]) -> str:
    return ", ".join(str(s) for s in statuses)


def resolve_policy(name: str, custom: Mapping[str, "RetryPolicy"] | None = None) -> RetryPolicy:
    """A preset by name, or one of the workspace's custom policies."""
    if custom and name in custom:
        return custom[name]
    return get_policy(name)


def planned_offsets(policy: RetryPolicy, *, limit: int = 50) -> list[float]:
    """Seconds from the first attempt to each attempt, without jitter, if every attempt fails."""
    offsets, t = [0.0], 0.0
    for k in range(1, limit):
        delay = policy.base_delay(k)
        if delay is None or (policy.max_age is not None and t + delay > policy.max_age):
            break
        t += delay
        offsets.append(t)
    return offsets
