"""The policy lab: a retry policy against a scripted endpoint, on a virtual clock.

`simulate` replays what a sender using `policy` would do against an endpoint that
behaves as `script` says ("down for 3 hours, then up", "429 with Retry-After 120",
"410 at attempt 4"), using the very functions real deliveries use
(`retry.classify_response`, `retry.plan_next`) — not a copy — so the drawn
schedule is the one the engine would follow. Days of schedule take microseconds.

Script format (JSON list; the first step whose condition holds answers; an attempt
that no step matches gets 202):

    [{"until": "3h", "status": 503},              # while < 3 h since the first attempt
     {"attempt": 4, "status": 410},               # exactly the 4th attempt
     {"attempts": 2, "status": 429, "retry_after": 120},   # attempts 1..2
     {"error": "timeout"},                        # a transport failure (no status)
     {"status": 202}]
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from app.core.retry import DELIVERED, GONE, REJECTED, RetryPolicy, classify_response, plan_next
from app.core.timeline import Timeline, build_timeline


class ScriptError(ValueError):
    """A script step is not usable; the message names the step and the field."""


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*", value)
        if m:
            return float(m.group(1)) * _UNITS[m.group(2) or "s"]
    raise ScriptError(f"{where}: {value!r} is not a duration (a number of seconds, or like '90s', '5m', '3h', '2d')")


@dataclass(frozen=True)
class ScriptStep:
    status: int | None = 202
    error: str | None = None
    retry_after: float | None = None
    until: float | None = None
    attempt: int | None = None
    attempts: int | None = None

    def applies(self, n: int, elapsed: float) -> bool:
        if self.until is not None and elapsed >= self.until:
            return False
        if self.attempt is not None and n != self.attempt:
            return False
        if self.attempts is not None and n > self.attempts:
            return False
        return True

    def describe(self) -> str:
        what = self.error or f"HTTP {self.status}"
        if self.retry_after is not None:
            what += f" + Retry-After {self.retry_after:g}"
        cond = []
        if self.until is not None:
            cond.append(f"for the first {self.until:g} s")
        if self.attempt is not None:
            cond.append(f"at attempt {self.attempt}")
        if self.attempts is not None:
            cond.append(f"for attempts 1-{self.attempts}")
        return what + (" " + ", ".join(cond) if cond else "")


@dataclass
class EndpointScript:
    steps: list[ScriptStep] = field(default_factory=list)

    def respond(self, n: int, elapsed: float) -> ScriptStep:
        for step in self.steps:
            if step.applies(n, elapsed):
                return step
        return ScriptStep(202)

    @classmethod
    def from_json(cls, data: Any) -> "EndpointScript":
        if not isinstance(data, list):
            raise ScriptError("a script is a JSON list of steps")
        steps = []
        for i, entry in enumerate(data, start=1):
            where = f"step {i}"
            if not isinstance(entry, dict):
                raise ScriptError(f"{where}: must be an object")
            unknown = set(entry) - {"status", "error", "retry_after", "until", "attempt", "attempts"}
            if unknown:
                raise ScriptError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            status = entry.get("status", None if "error" in entry else 202)
            if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
                raise ScriptError(f"{where}: 'status' must be an HTTP status from 100 to 599")
            for key in ("attempt", "attempts"):
                value = entry.get(key)
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                    raise ScriptError(f"{where}: '{key}' must be a whole number >= 1")
            steps.append(ScriptStep(
                status=status,
                error=str(entry["error"]) if entry.get("error") is not None else None,
                retry_after=parse_duration(entry["retry_after"], where) if entry.get("retry_after") is not None else None,
                until=parse_duration(entry["until"], where) if entry.get("until") is not None else None,
                attempt=entry.get("attempt"),
                attempts=entry.get("attempts"),
            ))
        return cls(steps)


SCRIPT_PRESETS: dict[str, list[dict]] = {
    "down 3 h, then up": [{"until": "3h", "status": 503}],
    "429 Retry-After 120, then up": [{"attempts": 2, "status": 429, "retry_after": 120}],
    "410 at attempt 4": [{"attempt": 4, "status": 410}, {"status": 500}],
    "always 500": [{"status": 500}],
    "timeouts for 10 min": [{"until": "10m", "error": "timeout"}],
    "400 invalid_request": [{"status": 400}],
}


@dataclass(frozen=True)
class SimulatedAttempt:
    n: int
    at: float
    status: int | None
    error: str | None
    outcome: str
    reason: str
    next_at: float | None
    retry_after: float | None


@dataclass
class Simulation:
    policy: RetryPolicy
    attempts: list[SimulatedAttempt]
    state: str  # delivered | failed | retired (410)
    reason: str

    def timeline(self, title: str | None = None) -> Timeline:
        rows = [{"n": a.n, "started_at": a.at, "ended_at": a.at, "status": a.status, "error": a.error,
                 "retry_after": a.retry_after, "next_retry_at": a.next_at} for a in self.attempts]
        end = self.attempts[-1].at if self.attempts else 0.0
        return build_timeline(title or self.policy.title, rows, self.state, now=end)


def simulate(policy: RetryPolicy, script: EndpointScript, *, start: float = 0.0, seed: int = 0,
             max_attempts: int = 500) -> Simulation:
    """Run the policy against the script on a virtual clock (deterministic for a seed)."""
    rng = random.Random(seed)
    attempts: list[SimulatedAttempt] = []
    now, n = start, 0
    while n < max_attempts:
        n += 1
        step = script.respond(n, now - start)
        headers = {"Retry-After": f"{step.retry_after:g}"} if step.retry_after is not None else {}
        body = b'{"err": "invalid_request", "description": "scripted"}' if step.status == 400 else b""
        outcome = classify_response(step.status, headers, body, error=step.error, now=now)
        plan = plan_next(policy, n, outcome, now=now, created_at=start, rng=rng)
        attempts.append(SimulatedAttempt(n, now, step.status, step.error, outcome.kind, plan.reason, plan.next_at,
                                         outcome.retry_after))
        if plan.next_at is None:
            state = {DELIVERED: "delivered", GONE: "retired", REJECTED: "failed"}.get(outcome.kind, "failed")
            return Simulation(policy, attempts, state, plan.reason)
        now = plan.next_at
    return Simulation(policy, attempts, "failed", f"stopped after {max_attempts} simulated attempts")
