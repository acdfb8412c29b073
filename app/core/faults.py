"""Receiver fault rules: make our receiver misbehave on purpose, to test a sender.

Rules are evaluated in order; the first enabled rule that matches a request
decides the answer (a status and body, `Retry-After`, a delay, or closing the
connection without answering). A rule can be limited to the next N matching
requests ("fail twice, then recover") or fire at random with a probability.
Deciding is pure (`FaultRules.decide` with an injected random source); the
receiver acts on the decision and records the rule's name on the capture.

The JSON format (`signalscope headless --fault-rules FILE`, and the window's
rules table) is a list of rules, or {"rules": [...]}:

    {"name": "flaky", "enabled": true,
     "match": {"path": "/events*", "event_type": "...session-revoked",
               "issuer": "https://idp.example.com", "header": {"X-Test": "1"}},
     "status": 503, "body": "down for maintenance", "retry_after": 2,
     "err": "invalid_request", "delay_ms": 0, "close": false,
     "times": 2, "probability": 1.0}

Every key but `name` is optional. `err` (with status 400 by default) answers with
an RFC 8935 error body; `retry_after` adds the header (with status 429 by
default); `close` drops the connection; `delay_ms` alone delays the normal answer.
"""

from __future__ import annotations

import fnmatch
import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable

ERR_CODES = ("invalid_request", "invalid_key", "invalid_issuer", "invalid_audience",
             "authentication_failed", "access_denied", "invalid_state")


class FaultRuleError(ValueError):
    """A rule definition is not usable; the message names the rule and the field."""


@dataclass
class RuleMatch:
    path: str | None = None  # glob, e.g. "/events*"
    event_type: str | None = None  # exact URI, or a suffix such as "session-revoked"
    issuer: str | None = None
    header: dict[str, str] = field(default_factory=dict)  # name -> glob of the value

    def matches(self, facts: "RequestFacts") -> bool:
        if self.path is not None and not fnmatch.fnmatchcase(facts.path, self.path):
            return False
        if self.event_type is not None and not any(
            t == self.event_type or t.endswith("/" + self.event_type) for t in facts.event_types
        ):
            return False
        if self.issuer is not None and facts.issuer != self.issuer:
            return False
        for name, pattern in self.header.items():
            value = facts.headers.get(name.lower())
            if value is None or not fnmatch.fnmatchcase(value, pattern):
                return False
        return True


@dataclass
class FaultRule:
    name: str
    enabled: bool = True
    match: RuleMatch = field(default_factory=RuleMatch)
    status: int | None = None
    body: str | None = None
    err: str | None = None
    retry_after: int | None = None
    delay_ms: int = 0
    close: bool = False
    times: int | None = None  # apply to this many matching requests, then stop
    probability: float = 1.0
    applied: int = 0  # runtime counter, not persisted

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.applied >= self.times

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "enabled": self.enabled}
        match = {k: v for k, v in self.match.__dict__.items() if v not in (None, {})}
        if match:
            out["match"] = match
        for key in ("status", "body", "err", "retry_after", "times"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.delay_ms:
            out["delay_ms"] = self.delay_ms
        if self.close:
            out["close"] = True
        if self.probability != 1.0:
            out["probability"] = self.probability
        return out

    def describe(self) -> str:
        """A short human summary for tables and logs."""
        if self.close:
            what = "close the connection"
        elif self.status is not None or self.err or self.retry_after is not None:
            what = f"answer {self.answer_status()}"
            if self.retry_after is not None:
                what += f" with Retry-After {self.retry_after}"
        else:
            what = "answer normally"
        if self.delay_ms:
            what += f" after {self.delay_ms} ms"
        if self.times is not None:
            what += f", {self.times} time(s)"
        if self.probability != 1.0:
            what += f", {self.probability:.0%} of the time"
        return what

    def answer_status(self) -> int | None:
        if self.status is not None:
            return self.status
        if self.err:
            return 400
        if self.retry_after is not None:
            return 429
        return None


@dataclass(frozen=True)
class RequestFacts:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    event_types: tuple[str, ...] = ()
    issuer: str | None = None


@dataclass(frozen=True)
class FaultDecision:
    rule: str
    status: int | None  # None: keep the normal answer (delay only)
    body: bytes
    headers: tuple[tuple[str, str], ...]
    delay_ms: int
    close: bool


class FaultRules:
    def __init__(self, rules: list[FaultRule] | None = None, *, rng: Callable[[], float] | None = None):
        self.rules = list(rules or [])
        self._rng = rng or random.random

    def decide(self, facts: RequestFacts) -> FaultDecision | None:
        for rule in self.rules:
            if not rule.enabled or rule.exhausted or not rule.match.matches(facts):
                continue
            if rule.probability < 1.0 and self._rng() >= rule.probability:
                continue
            rule.applied += 1
            return _decision(rule)
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.rules]

    @classmethod
    def from_json(cls, data: Any, **kw) -> "FaultRules":
        if isinstance(data, dict) and "rules" in data:
            data = data["rules"]
        if not isinstance(data, list):
            raise FaultRuleError("fault rules must be a JSON list of rules (or {\"rules\": [...]})")
        return cls([parse_rule(entry, i) for i, entry in enumerate(data)], **kw)

    @classmethod
    def load(cls, path: str, **kw) -> "FaultRules":
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except OSError as exc:
            raise FaultRuleError(f"cannot read fault rules from {path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise FaultRuleError(f"{path} is not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        return cls.from_json(data, **kw)


def _decision(rule: FaultRule) -> FaultDecision:
    status = rule.answer_status()
    headers: list[tuple[str, str]] = []
    body = b""
    if rule.err:
        body = json.dumps({"err": rule.err, "description": rule.body or f"fault rule '{rule.name}'"}).encode()
        headers += [("Content-Type", "application/json"), ("Content-Language", "en")]
    elif rule.body is not None:
        body = rule.body.encode("utf-8")
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
    if rule.retry_after is not None:
        headers.append(("Retry-After", str(rule.retry_after)))
    return FaultDecision(rule.name, status, body, tuple(headers), rule.delay_ms, rule.close)


_RULE_KEYS = {"name", "enabled", "match", "status", "body", "err", "retry_after", "delay_ms", "close", "times", "probability"}
_MATCH_KEYS = {"path", "event_type", "issuer", "header"}


def parse_rule(entry: Any, index: int = 0) -> FaultRule:
    where = f"rule {index + 1}"
    if not isinstance(entry, dict):
        raise FaultRuleError(f"{where}: must be a JSON object")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise FaultRuleError(f"{where}: needs a non-empty 'name'")
    where = f"rule '{name}'"
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        raise FaultRuleError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    match = entry.get("match", {})
    if not isinstance(match, dict) or set(match) - _MATCH_KEYS:
        raise FaultRuleError(f"{where}: 'match' may only have {', '.join(sorted(_MATCH_KEYS))}")
    header = match.get("header", {})
    if not isinstance(header, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in header.items()):
        raise FaultRuleError(f"{where}: 'match.header' must map header names to value patterns")
    for key in ("path", "event_type", "issuer"):
        if match.get(key) is not None and not isinstance(match[key], str):
            raise FaultRuleError(f"{where}: 'match.{key}' must be a string")

    def integer(key, low, high):
        value = entry.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise FaultRuleError(f"{where}: '{key}' must be a whole number from {low} to {high}")
        return value

    status = integer("status", 100, 599)
    err = entry.get("err")
    if err is not None and err not in ERR_CODES:
        raise FaultRuleError(f"{where}: 'err' must be one of {', '.join(ERR_CODES)}")
    probability = entry.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise FaultRuleError(f"{where}: 'probability' must be a number from 0 to 1")
    body = entry.get("body")
    if body is not None and not isinstance(body, str):
        raise FaultRuleError(f"{where}: 'body' must be a string")
    return FaultRule(
        name=name,
        enabled=bool(entry.get("enabled", True)),
        match=RuleMatch(match.get("path"), match.get("event_type"), match.get("issuer"), dict(header)),
        status=status,
        body=body,
        err=err,
        retry_after=integer("retry_after", 0, 86400 * 7),
        delay_ms=integer("delay_ms", 0, 600_000) or 0,
        close=bool(entry.get("close", False)),
        times=integer("times", 1, 1_000_000),
        probability=float(probability),
    )
