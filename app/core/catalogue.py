"""The event-type catalogue (resources/events.json) and payload checks driven by it.

The catalogue is data, not code: each CAEP/RISC/SSF event type lists its claims with
a type, an optional enum and whether it is required. The receiver's schema check
and the simulator's templates both read it, so they cannot disagree.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class ClaimSpec:
    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] = ()
    open_enum: bool = False
    description: str = ""


@dataclass(frozen=True)
class EventType:
    uri: str
    family: str
    name: str
    title: str
    description: str
    claims: tuple[ClaimSpec, ...]
    template: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    subject_formats: tuple[str, ...] = ()
    deprecated: str | None = None


@dataclass(frozen=True)
class PayloadProblem:
    """One finding about an event payload. `severity` is 'fail' or 'warn'."""

    severity: str
    message: str


class Catalogue:
    def __init__(self, events: list[EventType]):
        self.events = events
        self._by_uri: dict[str, EventType] = {}
        for event in events:
            self._by_uri[event.uri] = event
            for alias in event.aliases:
                self._by_uri.setdefault(alias, event)

    def lookup(self, uri: str) -> EventType | None:
        """Find an event type by its URI, a known alias, or its http:// spelling."""
        found = self._by_uri.get(uri)
        if found is None and uri.startswith("http://"):
            found = self._by_uri.get("https://" + uri[len("http://"):])
        return found

    def is_alias(self, uri: str) -> bool:
        event = self.lookup(uri)
        return event is not None and event.uri != uri

    def check_payload(self, uri: str, payload: Any) -> list[PayloadProblem]:
        """Check one event's payload against its catalogue entry (unknown types: no findings)."""
        event = self.lookup(uri)
        if event is None:
            return []
        problems: list[PayloadProblem] = []
        if not isinstance(payload, dict):
            return [PayloadProblem("fail", f"{event.name}: payload must be a JSON object")]
        for claim in event.claims:
            if claim.name not in payload:
                if claim.required:
                    problems.append(PayloadProblem("fail", f"{event.name}: required claim '{claim.name}' is missing"))
                continue
            problems.extend(_check_claim(event.name, claim, payload[claim.name]))
        return problems

    def fill_template(self, uri: str, now: float | None = None) -> dict[str, Any]:
        event = self.lookup(uri)
        if event is None:
            return {}
        stamp = int(now if now is not None else time.time())
        return {k: (stamp if v == "$now" else v) for k, v in json.loads(json.dumps(event.template)).items()}


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _check_claim(event_name: str, claim: ClaimSpec, value: Any) -> list[PayloadProblem]:
    where = f"{event_name}: claim '{claim.name}'"
    if claim.type == "lang_map":
        if isinstance(value, str):
            return [PayloadProblem("warn", f"{where} is a plain string; CAEP defines an object keyed by language tag (legacy shape)")]
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            return [PayloadProblem("fail", f"{where} must be an object of language tag -> text")]
        return []
    expected = _JSON_TYPES.get(claim.type, (object,))
    if isinstance(value, bool) and claim.type != "boolean":
        return [PayloadProblem("fail", f"{where} must be {claim.type}, got boolean")]
    if not isinstance(value, expected):
        return [PayloadProblem("fail", f"{where} must be {claim.type}, got {type(value).__name__}")]
    if claim.name == "event_timestamp" and isinstance(value, (int, float)) and value > 1e11:
        return [PayloadProblem("warn", f"{where} looks like milliseconds ({value}); CAEP 1.0 uses seconds")]
    if claim.enum and value not in claim.enum:
        severity = "warn" if claim.open_enum else "fail"
        return [PayloadProblem(severity, f"{where} is {value!r}, not one of {', '.join(claim.enum)}")]
    return []


def _event_from_json(entry: dict[str, Any]) -> EventType:
    claims = tuple(
        ClaimSpec(
            name=name,
            type=spec.get("type", "string"),
            required=bool(spec.get("required", False)),
            enum=tuple(spec.get("enum", ())),
            open_enum=bool(spec.get("open_enum", False)),
            description=spec.get("description", ""),
        )
        for name, spec in entry.get("claims", {}).items()
    )
    return EventType(
        uri=entry["uri"],
        family=entry["family"],
        name=entry["name"],
        title=entry["title"],
        description=entry["description"],
        claims=claims,
        template=entry.get("template", {}),
        aliases=tuple(entry.get("aliases", ())),
        subject_formats=tuple(entry.get("subject_formats", ())),
        deprecated=entry.get("deprecated"),
    )


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    text = resources.files("app.resources").joinpath("events.json").read_text("utf-8")
    return Catalogue([_event_from_json(e) for e in json.loads(text)["events"]])
