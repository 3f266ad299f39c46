"""SLA policies and clocks: which targets a case has, when they are due, and whether they broke.

This module is the pure domain part of SLAs. Nothing here reads a clock, a store or the desk:
every function takes the case, the policy and ``now`` and returns values, so the desk can call
it after every command and the breach sweep can call it for thousands of cases, and tests can
replay any history.

Rules
-----
* **Due times are re-derived every time** from the clock's start (``case.sla_started_at``, else
  ``created_at``), the target for the case's *current* priority, the business calendar and the
  pause history. They never depend on ``now``: evaluating the same case at two instants gives
  the same ``due_at``. A priority change therefore moves the due time as if the case had had
  the new priority from the start.
* **Pauses come from the timeline** (:func:`derive_pauses`): the clock stops while the status
  category is *waiting* (reason ``"waiting"``) and between a resolve and a reopen (reason
  ``"resolved"``). The stored ``case.pauses`` is an index the desk may write, never an input.
* **Met**: first response at ``case.first_response_at`` (the first public reply by an agent);
  resolution while the case is resolved or closed, at the instant it entered that stretch (a
  reopen un-meets it and the clock resumes, the resolved gap not counted); next reply when an
  agent publicly answers an unanswered customer reply. A met target keeps its due time; if it
  was met after the due time it is ``met`` with ``breached_by_seconds`` (the lateness).
* **Breached is set only by** :func:`mark_breached` (the sweep), never by :func:`evaluate`: an
  overdue target that nobody swept yet stays ``running``/``warning`` with ``due_at <= now`` and
  is listed in ``newly_breached``. This keeps "newly breached" meaningful: if ``evaluate``
  itself wrote ``breached`` after an ordinary command, the sweep would never see the breach as
  new and would never escalate or notify.
* **A breach is sticky**: a target stored as breached on the case stays breached with its
  ``breached_at`` even when a later priority change moves the due time or the target is met.
  ``breached_by_seconds`` of a breached target is the business time from ``breached_at`` to
  when it was met, or to ``now`` while it is still open.
* **Next reply** cycles: a cycle starts at the *oldest unanswered* public customer reply after
  an agent's public reply (measuring from the latest one would let every follow-up "please
  hurry" restart the clock) and ends at the next agent public reply. Only the latest cycle is
  shown. A breach is sticky within its cycle; the next cycle gets a fresh target (the earlier
  breach stays on record in the timeline the sweep writes).
* **Warnings**: ``warn_fraction`` (amber once that fraction of the target's business time is
  used) and ``warn_before`` (amber that much *business* time before due). With both, the earlier
  instant wins, so adding a second rule can only make a warning come sooner.
* **"Breached by"** is measured in business seconds on the policy's calendar.
* Everything is deterministic in ``(case, policy, now)`` and idempotent: evaluating a case whose
  targets came from an earlier evaluation at the same ``now`` gives the same targets.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

import attrs
import pendulum
import pendulum.parsing.exceptions

from caselib.cases import (
    BREACH_REASON,
    Actor,
    Case,
    CustomValue,
    DomainEvent,
    Links,
    Pause,
    PriorityChanged,
    SlaTarget,
    TimelineEntry,
    any_breached,
    breach_entry,
    next_due_of,
)
from caselib.errors import InvalidConfiguration, InvalidInput, UnknownValue
from caselib.sla.calendar import BusinessCalendar, Holiday, TimeRange
from caselib.timeutil import aware_utc
from caselib.vocab import ActorKind, Audience, Priority, Source, StatusCategory

__all__ = [
    "FIRST_RESPONSE",
    "NEXT_REPLY",
    "RESOLUTION",
    "SLA_ENTRY_KINDS",
    "TARGET_NAMES",
    "DueExplanation",
    "SlaCase",
    "SlaCondition",
    "SlaEvaluation",
    "SlaPolicies",
    "SlaPolicy",
    "SlaSubject",
    "SlaTargets",
    "derive_pauses",
    "describe_hours",
    "due_with_pauses",
    "evaluate",
    "explain_due",
    "format_duration",
    "mark_breached",
    "parse_duration",
]

FIRST_RESPONSE: Final = "first_response"
RESOLUTION: Final = "resolution"
NEXT_REPLY: Final = "next_reply"
TARGET_NAMES: Final[tuple[str, ...]] = (FIRST_RESPONSE, RESOLUTION, NEXT_REPLY)
"""Target names, in the order :func:`evaluate` lists them."""

_LADDER: Final = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
_ZERO: Final = timedelta(0)


# --- durations ----------------------------------------------------------------------------------

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: object, what: str = "duration") -> timedelta:
    """A positive whole-second duration from ``"4h"``, ``"1h30m"``, ``"2d"``, ISO 8601
    (``"PT4H"``, ``"P3DT12H"``, as JSON APIs and other helpdesks export them) or a timedelta.

    Bare numbers are refused: "8" could mean minutes or hours, and an SLA off by a factor of 60
    is worse than a configuration error.

    Raises:
        InvalidConfiguration: not a duration, not positive, or not whole seconds.
    """
    if isinstance(value, timedelta):
        td = value
    elif isinstance(value, str) and value.strip()[:1] in ("P", "p"):
        td = _iso_duration(value.strip(), what)
    elif isinstance(value, str):
        text = value.replace(" ", "").lower()
        match = _DURATION.match(text)
        if not text or match is None:
            raise InvalidConfiguration(
                f"{what}: {value!r} is not a duration such as '4h', '1h30m', '2d' or '45m'"
            )
        d, h, m, s = (int(g) if g else 0 for g in match.groups())
        td = timedelta(days=d, hours=h, minutes=m, seconds=s)
    else:
        raise InvalidConfiguration(
            f"{what}: {value!r} is not a duration; write text such as '4h' or '1h30m'"
        )
    if td <= _ZERO:
        raise InvalidConfiguration(f"{what} must be longer than zero, got {format_duration(td)}")
    if td.microseconds:
        raise InvalidConfiguration(f"{what} must be whole seconds, got {td}")
    return td


def _iso_duration(text: str, what: str) -> timedelta:
    """ISO 8601 durations, parsed by pendulum; months and years are refused (not fixed)."""
    try:
        parsed = pendulum.parse(text.upper())
    except (ValueError, pendulum.parsing.exceptions.ParserError) as err:
        raise InvalidConfiguration(f"{what}: {text!r} is not an ISO 8601 duration") from err
    if not isinstance(parsed, pendulum.Duration):
        raise InvalidConfiguration(f"{what}: {text!r} is a date or time, not a duration")
    if parsed.years or parsed.months:
        raise InvalidConfiguration(
            f"{what}: {text!r} uses months or years, which have no fixed length; "
            "give days or hours")
    return timedelta(seconds=parsed.total_seconds())


def format_duration(value: timedelta) -> str:
    """``timedelta(hours=1, minutes=30)`` → ``"1h30m"``; hours are not folded into days.

    SLA targets are spoken of in hours ("72 hours"), so ``72h`` reads better than ``3d``.
    :func:`parse_duration` reads the result back. Negative values get a leading ``-``.
    """
    total = int(value.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return sign + ("".join(parts) or "0m")


def _human(value: timedelta) -> str:
    """Like :func:`format_duration` with spaces (``1h 30m``), for explanation text."""
    total = int(abs(value.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return " ".join(parts) or "0m"


# --- policies -----------------------------------------------------------------------------------


def _check_target(instance: SlaTargets, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, timedelta):
        raise InvalidConfiguration(
            f"{attribute.name} target must be a timedelta or None, got {type(value).__name__}"
        )
    parse_duration(value, f"{attribute.name} target")


@attrs.frozen
class SlaTargets:
    """Business-time targets for one priority; ``None`` means "no such target"."""

    first_response: timedelta | None = attrs.field(default=None, validator=_check_target)
    resolution: timedelta | None = attrs.field(default=None, validator=_check_target)
    next_reply: timedelta | None = attrs.field(default=None, validator=_check_target)

    def get(self, name: str) -> timedelta | None:
        """The target named ``name`` (one of :data:`TARGET_NAMES`)."""
        if name not in TARGET_NAMES:
            raise UnknownValue("sla target", name, TARGET_NAMES)
        value: timedelta | None = getattr(self, name)
        return value

    def to_dict(self) -> dict[str, str]:
        """``{"first_response": "8h", ...}``; absent targets are left out."""
        return {n: format_duration(v) for n in TARGET_NAMES if (v := self.get(n)) is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "targets") -> SlaTargets:
        """Build from ``{"first_response": "1h", "resolution": "4h"}`` (keys optional)."""
        if not isinstance(data, Mapping):
            raise InvalidConfiguration(f"{where} must be a mapping of target name to duration")
        unknown = set(data) - set(TARGET_NAMES)
        if unknown:
            raise InvalidConfiguration(
                f"{where}: unknown targets {sorted(unknown)}; expected {', '.join(TARGET_NAMES)}"
            )
        values = {
            name: None if data.get(name) is None else parse_duration(data[name], f"{where}.{name}")
            for name in TARGET_NAMES
        }
        return cls(**values)


def _coerce_targets(value: object) -> Mapping[Priority, SlaTargets]:
    """Every rung of the ladder must be configured: a forgotten priority silently having no SLA
    is a configuration bug; ``{"low": {}}`` says "no targets for low" on purpose."""
    if not isinstance(value, Mapping):
        raise InvalidConfiguration("targets must map each priority to its SLA targets")
    out: dict[Priority, SlaTargets] = {}
    for key, item in value.items():
        try:
            prio = Priority.parse(key)
        except UnknownValue as err:
            raise InvalidConfiguration(
                f"targets: unknown priority {key!r}; expected low, normal, high, urgent"
            ) from err
        if prio in out:
            raise InvalidConfiguration(f"targets: priority {prio.value!r} is given twice")
        if isinstance(item, SlaTargets):
            out[prio] = item
        else:
            out[prio] = SlaTargets.from_dict(item, f"targets.{prio.value}")
    missing = [p.value for p in _LADDER if p not in out]
    if missing:
        raise InvalidConfiguration(
            f"targets: no entry for priority {', '.join(missing)}; give every priority an "
            "entry (an empty one means no targets)"
        )
    return MappingProxyType({p: out[p] for p in _LADDER})


def _check_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidConfiguration(f"SLA policy {attribute.name} must be non-empty text")


def _check_fraction(instance: SlaPolicy, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise InvalidConfiguration(
            f"warn_fraction must be a number above 0 and at most 1 (0.75 = amber after 75 % "
            f"of the target), got {value!r}"
        )


def _check_warn_before(instance: SlaPolicy, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        parse_duration(value, "warn_before")


def _utc_calendar() -> BusinessCalendar:
    return BusinessCalendar.always_open("UTC")


@attrs.frozen
class SlaPolicy:
    """Targets per priority, measured on one business calendar, with a warning rule.

    ``warn_fraction`` turns a target amber once that fraction of its business time is used
    (``0.75`` by default); ``warn_before`` turns it amber that much business time before due.
    With both, the *earlier* warning wins. Set both to ``None`` for no warnings.
    """

    id: str = attrs.field(validator=_check_id)
    name: str = attrs.field(validator=_check_id)
    targets: Mapping[Priority, SlaTargets] = attrs.field(converter=_coerce_targets, hash=False)
    calendar: BusinessCalendar = attrs.field(factory=_utc_calendar)
    warn_fraction: float | None = attrs.field(default=0.75, validator=_check_fraction)
    warn_before: timedelta | None = attrs.field(default=None, validator=_check_warn_before)
    # targets by the member's value: hashing an Enum member runs Python code, and every
    # evaluation looks targets up three times
    _by_value: dict[str, SlaTargets] = attrs.field(init=False, repr=False, eq=False,
                                                   hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_value", {p.value: t for p, t in self.targets.items()})

    @calendar.validator
    def _check_calendar(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, BusinessCalendar):
            raise InvalidConfiguration("an SLA policy's calendar must be a BusinessCalendar")

    @classmethod
    def default(cls) -> SlaPolicy:
        """The out-of-the-box policy on a 24/7 UTC calendar, amber at 75 %.

        ========  ==============  ==========
        priority  first response  resolution
        ========  ==============  ==========
        urgent    1h              4h
        high      4h              24h
        normal    8h              72h
        low       24h             168h
        ========  ==============  ==========

        No next-reply target (opt in per policy). Both ladders are monotone, so raising a
        case's priority never moves a due time later.
        """
        h = timedelta(hours=1)
        return cls(
            "default",
            "Default",
            {
                Priority.URGENT: SlaTargets(1 * h, 4 * h),
                Priority.HIGH: SlaTargets(4 * h, 24 * h),
                Priority.NORMAL: SlaTargets(8 * h, 72 * h),
                Priority.LOW: SlaTargets(24 * h, 168 * h),
            },
        )

    def targets_for(self, priority: Priority | str) -> SlaTargets:
        """The targets that apply at ``priority``."""
        if type(priority) is Priority:
            found = self._by_value.get(priority._value_)
            if found is not None:
                return found
        return self.targets[Priority.parse(priority)]

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` turns back into an equal policy."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "targets": {p.value: self.targets[p].to_dict() for p in reversed(_LADDER)},
            "calendar": self.calendar.to_dict(),
            "warn_fraction": self.warn_fraction,
        }
        if self.warn_before is not None:
            out["warn_before"] = format_duration(self.warn_before)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Build a policy from plain data::

            {"id": "gold", "name": "Gold support",
             "targets": {"urgent": {"first_response": "30m", "resolution": "4h"},
                         "high": {...}, "normal": {...}, "low": {}},
             "calendar": {"timezone": "Europe/Berlin", "hours": {...}},   # default 24/7 UTC
             "warn_fraction": 0.75,                                        # null: off
             "warn_before": "1h"}                                          # optional

        Raises:
            InvalidConfiguration: naming the key or value that is wrong.
        """
        if not isinstance(data, Mapping):
            raise InvalidConfiguration(f"an SLA policy must be a mapping, got {data!r}")
        allowed = {"id", "name", "targets", "calendar", "warn_fraction", "warn_before"}
        unknown = set(data) - allowed
        if unknown:
            raise InvalidConfiguration(
                f"SLA policy {data.get('id')!r}: unknown keys {sorted(unknown)}; expected "
                f"{', '.join(sorted(allowed))}"
            )
        for key in ("id", "targets"):
            if key not in data:
                raise InvalidConfiguration(f"an SLA policy needs {key!r}")
        where = f"SLA policy {data['id']!r}"
        try:
            calendar = (
                _utc_calendar()
                if data.get("calendar") is None
                else BusinessCalendar.from_dict(data["calendar"])
            )
            warn_before = data.get("warn_before")
            return cls(
                data["id"],
                data.get("name", data["id"]),
                data["targets"],
                calendar,
                data.get("warn_fraction", 0.75),
                None if warn_before is None else parse_duration(warn_before, "warn_before"),
            )
        except InvalidConfiguration as err:
            raise InvalidConfiguration(f"{where}: {err}") from err


# --- choosing a policy --------------------------------------------------------------------------

_PLAIN_FIELDS: Final = ("category", "subcategory", "case_type", "source", "account", "tier", "tag")
_LINK_NAMES: Final = tuple(a.name for a in attrs.fields(Links))


def _fold(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return " ".join(str(value).split()).casefold()


def _case_values(case: SlaSubject, field: str) -> set[str]:
    """The folded values of ``field`` on ``case`` (empty when unset)."""
    raw: list[object]
    if field == "tag":
        raw = list(case.tags)
    elif field == "tier":
        raw = [case.custom.get("tier")]
    elif field == "account":
        raw = [case.links.account]
    elif field == "source":
        raw = [case.source.value]
    elif field.startswith("custom."):
        raw = [case.custom.get(field[len("custom.") :])]
    elif field.startswith("links."):
        raw = [getattr(case.links, field[len("links.") :])]
    else:
        raw = [getattr(case, field)]
    return {_fold(v) for v in raw if v is not None}


def _coerce_condition(value: object) -> Mapping[str, frozenset[str]]:
    if not isinstance(value, Mapping):
        raise InvalidConfiguration("an SLA condition must map field names to allowed values")
    out: dict[str, frozenset[str]] = {}
    for field, allowed in value.items():
        ok = field in _PLAIN_FIELDS or (
            isinstance(field, str)
            and (
                (field.startswith("custom.") and len(field) > len("custom."))
                or (field.startswith("links.") and field[len("links.") :] in _LINK_NAMES)
            )
        )
        if not ok:
            raise InvalidConfiguration(
                f"SLA condition: unknown field {field!r}; use one of {', '.join(_PLAIN_FIELDS)}, "
                f"custom.<field> or links.<{'|'.join(_LINK_NAMES)}>"
            )
        values = [allowed] if isinstance(allowed, str | int | float | bool) else allowed
        if not isinstance(values, Iterable):
            raise InvalidConfiguration(f"SLA condition {field!r}: expected a value or a list")
        folded = frozenset(_fold(v) for v in values)
        if not folded:
            raise InvalidConfiguration(
                f"SLA condition {field!r}: the list of allowed values is empty, so it could "
                "never match"
            )
        out[field] = folded
    return MappingProxyType(dict(sorted(out.items())))


@attrs.frozen
class SlaCondition:
    """All fields must match; a field matches when the case's value is one of the allowed values.

    Comparison is case-insensitive text (``"Gold"`` matches ``"gold"``; a custom ``True`` matches
    ``"true"``). Fields: ``category``, ``subcategory``, ``case_type``, ``source``, ``account``
    (the account link id), ``tier`` (the custom field ``tier``), ``tag`` (any of the case's tags),
    ``custom.<key>`` and ``links.<name>``. An unset field never matches. An empty condition
    matches every case.
    """

    fields: Mapping[str, frozenset[str]] = attrs.field(converter=_coerce_condition, hash=False)

    def matches(self, case: SlaSubject) -> bool:
        """True when every field of the condition matches ``case``."""
        return all(_case_values(case, f) & allowed for f, allowed in self.fields.items())

    def to_dict(self) -> dict[str, list[str]]:
        """``{"tier": ["gold", "platinum"]}`` (folded values, sorted)."""
        return {f: sorted(v) for f, v in self.fields.items()}


def _coerce_rules(value: Iterable[Any]) -> tuple[tuple[SlaCondition, SlaPolicy], ...]:
    out: list[tuple[SlaCondition, SlaPolicy]] = []
    for item in value:
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise InvalidConfiguration(f"an SLA rule is a (condition, policy) pair, got {item!r}")
        condition, policy = item
        if not isinstance(condition, SlaCondition):
            condition = SlaCondition(condition)
        if not isinstance(policy, SlaPolicy):
            raise InvalidConfiguration(f"an SLA rule needs an SlaPolicy, got {policy!r}")
        out.append((condition, policy))
    return tuple(out)


@attrs.frozen
class SlaPolicies:
    """Several policies, chosen per case by the first matching rule, with a default.

    Rules are tried in order; the first whose condition matches wins, else ``default``.
    Policy ids are unique (the case stores the id of its policy in ``case.sla_policy``).
    """

    rules: tuple[tuple[SlaCondition, SlaPolicy], ...] = attrs.field(
        factory=tuple, converter=_coerce_rules
    )
    default: SlaPolicy = attrs.field(factory=SlaPolicy.default)
    # id -> policy, built once: every command and every swept case looks its policy up
    _by_id: dict[str, SlaPolicy] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        seen: dict[str, SlaPolicy] = {}
        for policy in (*(p for _, p in self.rules), self.default):
            other = seen.setdefault(policy.id, policy)
            if other != policy:
                raise InvalidConfiguration(f"two different SLA policies have the id {policy.id!r}")
        object.__setattr__(self, "_by_id", seen)

    @property
    def policies(self) -> tuple[SlaPolicy, ...]:
        """Each distinct policy once, in rule order, the default last."""
        return tuple(self._by_id.values())

    def get(self, policy_id: str) -> SlaPolicy:
        """The policy with ``policy_id``; :class:`UnknownValue` otherwise."""
        policy = self._by_id.get(policy_id)
        if policy is None:
            raise UnknownValue("sla policy", policy_id, list(self._by_id))
        return policy

    def select(self, case: SlaSubject) -> SlaPolicy:
        """The policy of the first rule whose condition matches ``case``, else the default."""
        for condition, policy in self.rules:
            if condition.matches(case):
                return policy
        return self.default

    def policy_for(self, case: SlaSubject) -> SlaPolicy:
        """The policy recorded on the case (``case.sla_policy``) if known, else :meth:`select`.

        A case keeps the policy it started with: re-selecting after every field edit would let
        an edit (say, a category change) silently swap the contract the customer was promised.
        Hosts that want re-selection clear ``case.sla_policy``.
        """
        if case.sla_policy is not None:
            policy = self._by_id.get(case.sla_policy)
            if policy is not None:
                return policy
        return self.select(case)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for :meth:`from_dict`."""
        return {
            "policies": [p.to_dict() for p in self.policies],
            "rules": [{"when": c.to_dict(), "policy": p.id} for c, p in self.rules],
            "default": self.default.id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicies:
        """Build from plain data::

            {"policies": [...], "rules": [{"when": {...}, "policy": id}], "default": id}

        Without ``"default"`` the built-in :meth:`SlaPolicy.default` is the last resort.

        Raises:
            InvalidConfiguration: unknown keys, duplicate ids, a rule naming an unknown policy.
        """
        if not isinstance(data, Mapping):
            raise InvalidConfiguration("SLA policies must be a mapping")
        unknown = set(data) - {"policies", "rules", "default"}
        if unknown:
            raise InvalidConfiguration(
                f"unknown SLA policies keys {sorted(unknown)}; expected policies, rules, default"
            )
        by_id: dict[str, SlaPolicy] = {}
        for item in data.get("policies", ()):
            policy = SlaPolicy.from_dict(item)
            if policy.id in by_id:
                raise InvalidConfiguration(f"two SLA policies have the id {policy.id!r}")
            by_id[policy.id] = policy

        def lookup(policy_id: object, where: str) -> SlaPolicy:
            if not isinstance(policy_id, str) or policy_id not in by_id:
                raise InvalidConfiguration(
                    f"{where} names SLA policy {policy_id!r}, which is not defined; known: "
                    f"{', '.join(sorted(by_id)) or 'none'}"
                )
            return by_id[policy_id]

        rules = []
        for index, rule in enumerate(data.get("rules", ())):
            if not isinstance(rule, Mapping) or set(rule) - {"when", "policy"}:
                raise InvalidConfiguration(
                    f"SLA rule {index + 1} must be {{'when': {{field: values}}, 'policy': id}}"
                )
            rules.append(
                (
                    SlaCondition(rule.get("when", {})),
                    lookup(rule.get("policy"), f"SLA rule {index + 1}"),
                )
            )
        default = lookup(data["default"], "default") if "default" in data else SlaPolicy.default()
        return cls(rules, default)


# --- pauses and due times ----------------------------------------------------------------------


def _pause_reason(category: StatusCategory) -> str | None:
    if category is StatusCategory.WAITING:
        return "waiting"
    if category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        return "resolved"
    return None


def _status_changes(case: SlaSubject) -> list[tuple[datetime, StatusCategory, StatusCategory]]:
    """``(at, old_category, new_category)`` for each status change, in timeline order."""
    return [
        (e.at, _category(e.data.get("old_category")), _category(e.data.get("new_category")))
        for e in case.timeline
        if e.kind == "status_changed"
    ]


_CATEGORIES: Final = {c.value: c for c in StatusCategory}


def _category(value: object) -> StatusCategory:
    """A stored category name → member; a dict hit on the hot path of every evaluation."""
    found = _CATEGORIES.get(value) if isinstance(value, str) else None
    return found if found is not None else StatusCategory.parse(value)


def derive_pauses(case: SlaSubject) -> list[Pause]:
    """Spans during which SLA clocks stand still, read from the case's status history.

    * status category *waiting* → reason ``"waiting"`` (the ball is in the customer's court);
    * from entering *resolved/closed* until a reopen → reason ``"resolved"`` (resolved → closed
      continues the same pause);
    * a pause still going on has ``end=None``; zero-length pauses are dropped.

    Waiting followed directly by resolved gives two adjacent pauses with their own reasons, so
    an explanation can say what stopped the clock when.
    """
    timeline = case.timeline
    memo = case.memo.get("pauses")
    if memo is not None and memo[0] <= len(timeline):
        # The timeline is append-only, so the fold over its first ``n`` entries still holds.
        done, closed_so_far, reason, since = memo
        closed = list(closed_so_far)
    else:
        first = next((e for e in timeline if e.kind == "status_changed"), None)
        initial = (case.status_category if first is None
                   else _category(first.data.get("old_category")))
        done, closed = 0, []
        reason = _pause_reason(initial)
        since = case.created_at if reason else None
        if first is None:
            return [Pause(since, None, reason)] if since is not None and reason else []
    for entry in timeline[done:]:
        if entry.kind != "status_changed":
            continue
        at = entry.at
        new_reason = _pause_reason(_category(entry.data.get("new_category")))
        if new_reason == reason:
            continue
        if since is not None and reason is not None and at > since:
            closed.append(Pause(since, at, reason))
        reason, since = new_reason, (at if new_reason else None)
    case.memo["pauses"] = (len(timeline), tuple(closed), reason, since)
    if since is not None and reason is not None:
        closed.append(Pause(since, None, reason))
    return closed


def _resolved_since(case: SlaSubject) -> datetime | None:
    """When the current resolved/closed stretch began; ``None`` while the case is active."""
    if case.status_category.is_active:
        return None
    changes = _status_changes(case)
    since: datetime | None = None
    if changes and not changes[0][1].is_active:
        since = case.created_at
    for at, _old, new in changes:
        if new.is_active:
            since = None
        elif since is None:
            since = at
    return since or case.resolved_at or case.closed_at or case.updated_at


def _reply_cycle(case: SlaSubject) -> tuple[datetime, datetime | None] | None:
    """The latest next-reply cycle: (oldest unanswered customer reply, agent answer or None)."""
    start: datetime | None = None
    answered: datetime | None = None
    agent_replied = False
    for e in case.timeline:
        if e.kind != "reply" or e.audience is not Audience.PUBLIC:
            continue
        if e.actor_kind is ActorKind.AGENT:
            if start is not None and answered is None:
                answered = e.at
            agent_replied = True
        elif (
            e.actor_kind is ActorKind.CUSTOMER
            and agent_replied
            and (start is None or answered is not None)
        ):
            start, answered = e.at, None
    return None if start is None else (start, answered)


def _merged_spans(
    pauses: Iterable[Pause], start: datetime
) -> list[tuple[datetime, datetime | None]]:
    """Pauses clipped to ``>= start``, sorted and merged; an open pause swallows what follows."""
    spans: list[tuple[datetime, datetime | None]] = []
    items = sorted(
        (
            (
                aware_utc(p.start, "pause.start"),
                None if p.end is None else aware_utc(p.end, "pause.end"),
            )
            for p in pauses
        ),
        key=lambda span: span[0],
    )
    for s, e in items:
        if e is not None and e <= max(s, start):
            continue  # empty, or over before the clock started
        s = max(s, start)
        if spans:
            last_s, last_e = spans[-1]
            if last_e is None:
                break
            if s <= last_e:
                spans[-1] = (last_s, None if e is None else max(e, last_e))
                continue
        spans.append((s, e))
    return spans


def due_with_pauses(
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """The instant at which ``target`` of business time has elapsed since ``start``, not
    counting time inside ``pauses``; ``None`` if an ongoing pause (``end=None``) began before
    that instant (the clock is stopped and nobody knows yet when it resumes).

    Equal to ``calendar.add`` over the un-paused spans: the calendar's rules (start outside
    hours begins at the next opening, a due time on a closing time stays there, a zero target
    is ``next_open``) carry over. Cost: one or two calendar calls per pause.
    """
    start = aware_utc(start, "start")
    if not isinstance(target, timedelta) or target < _ZERO:
        raise InvalidInput(
            f"target must be a non-negative timedelta, got {target!r}", field="target"
        )
    return _due(calendar, start, target, tuple(pauses))


def _due(
    calendar: BusinessCalendar, start: datetime, target: timedelta, pauses: tuple[Pause, ...]
) -> datetime | None:
    """:func:`due_with_pauses` on checked inputs.

    An un-paused clock on a 24/7 calendar is one addition, cheaper than a cache lookup (and
    the breach sweep meets each case's start once, so caching it would only churn the
    cache); everything else goes through the memo.
    """
    if not pauses and calendar.is_always_open:
        return start + target
    return _due_memo(calendar, start, target, pauses)


@functools.lru_cache(maxsize=16_384)
def _due_memo(
    calendar: BusinessCalendar, start: datetime, target: timedelta, pauses: tuple[Pause, ...]
) -> datetime | None:
    """:func:`_due`, memoised.

    Every command re-derives a case's dues from the same start and pause history, so most
    calls repeat an earlier one; all arguments are immutable values, so caching is exact.
    """
    cur, remaining = start, target
    if calendar.is_always_open:  # business time is elapsed time: plain UTC arithmetic
        for s, e in _merged_spans(pauses, start):
            if s > cur:
                if cur + remaining <= s:
                    return cur + remaining
                remaining -= s - cur
            if e is None:
                return None
            cur = max(cur, e)
        return cur + remaining
    for s, e in _merged_spans(pauses, start):
        if s > cur:
            candidate = calendar.add(cur, remaining)
            if candidate <= s:
                return candidate
            remaining -= calendar.business_between(cur, s)
        if e is None:
            return None
        cur = max(cur, e)
    return calendar.add(cur, remaining)


def _until(pauses: Sequence[Pause], t: datetime) -> list[Pause]:
    """The pauses as they stood at ``t``: later ones dropped, one going on at ``t`` ended there.

    A met target's clock stopped when it was met, so what happens afterwards must not move
    its due time.
    """
    out = []
    for p in pauses:
        if p.start < t:
            end = t if p.end is None or p.end > t else p.end
            out.append(Pause(p.start, end, p.reason))
    return out


def _warn_at(
    policy: SlaPolicy, start: datetime, target: timedelta, pauses: Sequence[Pause]
) -> datetime | None:
    cal = policy.calendar
    found: list[datetime] = []
    spans = tuple(pauses)
    if policy.warn_fraction is not None:
        at = _due(cal, start, target * policy.warn_fraction, spans)
        if at is not None:
            found.append(at)
    if policy.warn_before is not None:
        at = _due(cal, start, max(target - policy.warn_before, _ZERO), spans)
        if at is not None:
            found.append(at)
    return min(found) if found else None


def _business_seconds(calendar: BusinessCalendar, a: datetime, b: datetime) -> float:
    return max(calendar.business_between(a, b).total_seconds(), 0.0)


# --- evaluation ---------------------------------------------------------------------------------


@attrs.define
class _Clock:
    """What one target's clock is made of, before ``now`` and stored state are considered.

    Private and never mutated; not frozen because a frozen attrs instance costs three times
    as much to build, and evaluation builds a few per case (the sweep: per due case, twice).
    """

    name: str
    duration: timedelta
    start: datetime
    pauses: tuple[Pause, ...]
    met_at: datetime | None
    due_at: datetime | None
    warn_at: datetime | None


def _clock(
    case: SlaSubject, policy: SlaPolicy, name: str, pauses: Sequence[Pause]
) -> _Clock | None:
    duration = policy.targets_for(case.priority).get(name)
    if duration is None:
        return None
    met_at: datetime | None
    if name == NEXT_REPLY:
        cycle = _reply_cycle(case)
        if cycle is None:
            return None
        start, met_at = cycle
    else:
        start = aware_utc(case.sla_started_at or case.created_at, "sla_started_at")
        met_at = case.first_response_at if name == FIRST_RESPONSE else _resolved_since(case)
    relevant = tuple(pauses if met_at is None else _until(pauses, met_at))
    return _Clock(
        name,
        duration,
        start,
        relevant,
        met_at,
        _due(policy.calendar, start, duration, relevant),
        _warn_at(policy, start, duration, relevant),
    )


@attrs.frozen
class SlaEvaluation:
    """The SLA state of a case at ``now`` under ``policy``.

    ``targets`` is what the desk stores in ``case.sla_targets``, ``pauses`` what it stores in
    ``case.pauses``; ``newly_breached`` names the targets the sweep should mark with
    :func:`mark_breached` (overdue, not met, not yet marked).
    """

    targets: tuple[SlaTarget, ...]
    pauses: tuple[Pause, ...]
    newly_breached: tuple[str, ...]
    policy: SlaPolicy
    now: datetime

    def target(self, name: str) -> SlaTarget | None:
        """The target called ``name``, if the case has one."""
        return next((t for t in self.targets if t.name == name), None)

    @property
    def next_due_at(self) -> datetime | None:
        """Earliest due time among targets that can still breach (running or warning)."""
        return next_due_of(self.targets)


def evaluate(case: SlaSubject, policy: SlaPolicy, now: datetime) -> SlaEvaluation:
    """Re-derive every SLA target of ``case`` under ``policy`` and classify it at ``now``.

    States: ``met`` (stopped; ``breached_by_seconds`` set when met late), ``paused`` (an
    ongoing pause began before the due time: ``due_at`` is ``None``), ``warning``
    (``now >= warn_at``), ``running``, and ``breached`` only for targets already marked
    breached on the case (sticky; see the module rules). Targets without a duration for the
    case's priority are left out, except that a stored breach is always kept.

    Deterministic in ``(case, policy, now)``; ``due_at`` and ``warn_at`` do not depend on
    ``now``. Reads ``case.sla_targets`` only for stored breaches.
    """
    now = aware_utc(now, "now")
    pauses = tuple(derive_pauses(case))
    cal = policy.calendar
    prior = {t.name: t for t in case.sla_targets}
    targets: list[SlaTarget] = []
    newly: list[str] = []
    for name in TARGET_NAMES:
        prev = prior.pop(name, None)
        clock = _clock(case, policy, name, pauses)
        stored_breach = prev is not None and prev.state == "breached"
        if clock is None:
            if prev is not None and stored_breach:
                targets.append(prev)
            continue
        if (
            prev is not None
            and stored_breach
            and (name != NEXT_REPLY or (prev.breached_at or clock.start) > clock.start)
        ):
            breached_at = prev.breached_at or clock.due_at or clock.start
            end = now if clock.met_at is None else min(now, clock.met_at)
            targets.append(
                SlaTarget(
                    name,
                    clock.due_at,
                    "breached",
                    clock.warn_at,
                    breached_at,
                    clock.met_at,
                    _business_seconds(cal, breached_at, end),
                )
            )
        elif clock.met_at is not None:
            late = None
            if clock.due_at is not None and clock.met_at > clock.due_at:
                late = _business_seconds(cal, clock.due_at, clock.met_at)
            targets.append(
                SlaTarget(name, clock.due_at, "met", clock.warn_at, None, clock.met_at, late)
            )
        elif clock.due_at is None:
            targets.append(SlaTarget(name, None, "paused", clock.warn_at))
        else:
            warned = clock.warn_at is not None and clock.warn_at <= now
            targets.append(
                SlaTarget(name, clock.due_at, "warning" if warned else "running", clock.warn_at)
            )
            if clock.due_at <= now:
                newly.append(name)
    # Breaches of targets this policy does not know (another policy, a host's own) are facts too.
    targets.extend(t for t in prior.values() if t.state == "breached")
    return SlaEvaluation(tuple(targets), pauses, tuple(newly), policy, now)


def mark_breached(
    targets: SlaEvaluation | Iterable[SlaTarget],
    names: Iterable[str],
    now: datetime,
    calendar: BusinessCalendar | None = None,
) -> tuple[SlaTarget, ...]:
    """Return ``targets`` with the named ones marked breached (what the sweep stores).

    ``breached_at`` is the target's due time (when it broke, not when the sweep noticed) and
    ``breached_by_seconds`` the business time from then to ``now`` (or to when it was met, if
    it was met late). Already breached targets are left as they are, so marking twice is
    harmless. ``calendar`` defaults to the evaluation's policy calendar and is required for a
    plain iterable of targets.

    Raises:
        InvalidInput: an unknown name, or a target that is not overdue at ``now`` (a breach
            cannot be recorded before it happened, nor for a target met on time).
    """
    now = aware_utc(now, "now")
    if isinstance(targets, SlaEvaluation):
        cal = calendar or targets.policy.calendar
        items = targets.targets
    else:
        if calendar is None:
            raise InvalidInput("pass calendar= to mark plain targets breached", field="calendar")
        cal, items = calendar, tuple(targets)
    wanted = set(names)
    known = {t.name for t in items}
    if wanted - known:
        raise UnknownValue("sla target", sorted(wanted - known)[0], sorted(known))
    out = []
    for t in items:
        if t.name not in wanted or t.state == "breached":
            out.append(t)
            continue
        if t.due_at is None or t.due_at > now:
            raise InvalidInput(
                f"SLA target {t.name!r} is not overdue at {now.isoformat()} (due {t.due_at})",
                field="names",
            )
        if t.met_at is not None and t.met_at <= t.due_at:
            raise InvalidInput(f"SLA target {t.name!r} was met on time", field="names")
        end = now if t.met_at is None else min(now, t.met_at)
        out.append(SlaTarget(name=t.name, due_at=t.due_at, state="breached", warn_at=t.warn_at,
                             breached_at=t.due_at, met_at=t.met_at,
                             breached_by_seconds=_business_seconds(cal, t.due_at, end)))
    return tuple(out)


# --- explanations -------------------------------------------------------------------------------

_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_LABELS: Final = {
    FIRST_RESPONSE: "First response",
    RESOLUTION: "Resolution",
    NEXT_REPLY: "Next reply",
}
_REASONS: Final = {"waiting": "waiting on the customer", "resolved": "resolved until reopened"}


def _range_text(r: TimeRange) -> str:
    return str(r).replace("-", "–")


def describe_hours(calendar: BusinessCalendar) -> tuple[str, ...]:
    """Weekly hours as lines such as ``"Mon–Fri 09:00–12:00, 13:00–17:00"`` (``"24/7"``)."""
    full = (TimeRange(0, 1440),)
    if all(day == full for day in calendar.hours):
        return ("24/7",)
    out: list[str] = []
    i = 0
    while i < 7:
        day = calendar.hours[i]
        j = i
        while j + 1 < 7 and calendar.hours[j + 1] == day:
            j += 1
        if day:
            days = _DAYS[i] if i == j else f"{_DAYS[i]}–{_DAYS[j]}"
            out.append(f"{days} {', '.join(_range_text(r) for r in day)}")
        i = j + 1
    return tuple(out)


def _when(t: datetime, zone: ZoneInfo, *, year: bool = False) -> str:
    local = t.astimezone(zone)
    y = f" {local.year}" if year else ""
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}{y} "
        f"{local.hour:02d}:{local.minute:02d}"
    )


def _holidays_between(calendar: BusinessCalendar, first: date, last: date) -> tuple[Holiday, ...]:
    """Active holidays in ``[first, last]`` that close a day with business hours."""
    return tuple(
        h
        for h in calendar.holidays
        if h.active and first <= h.date <= last and calendar.hours[h.date.weekday()]
    )


@attrs.frozen
class DueExplanation:
    """Why a target is due when it is due, as data and as ``text`` for a support lead."""

    target: str
    policy_id: str
    priority: Priority
    duration: timedelta | None
    start: datetime | None
    counted_from: datetime | None
    pauses: tuple[Pause, ...]
    timezone: str
    windows: tuple[str, ...]
    holidays: tuple[Holiday, ...]
    due_at: datetime | None
    warn_at: datetime | None
    met_at: datetime | None
    state: str | None
    text: str


def explain_due(
    case: Case, policy: SlaPolicy, target_name: str, now: datetime | None = None
) -> DueExplanation:
    """Explain how ``target_name``'s due time follows from the start, pauses and calendar.

    With ``now`` the explanation also gives the state and the business time left (or overdue).
    """
    if target_name not in TARGET_NAMES:
        raise UnknownValue("sla target", target_name, TARGET_NAMES)
    cal = policy.calendar
    zone = ZoneInfo(cal.timezone)
    label = _LABELS[target_name]
    windows = describe_hours(cal)
    prio = case.priority
    state: SlaTarget | None = None
    if now is not None:
        now = aware_utc(now, "now")
        state = evaluate(case, policy, now).target(target_name)
    clock = _clock(case, policy, target_name, derive_pauses(case))
    where = f'policy "{policy.name}", hours {"; ".join(windows)} {cal.timezone}'
    if clock is None:
        why = (
            "no customer reply is waiting for an answer"
            if policy.targets_for(prio).get(target_name) is not None
            else f"the policy sets no {label.lower()} target for {prio.value} priority"
        )
        return DueExplanation(
            target_name,
            policy.id,
            prio,
            policy.targets_for(prio).get(target_name),
            None,
            None,
            (),
            cal.timezone,
            windows,
            (),
            None,
            None,
            None,
            state.state if state else None,
            f"{label}: no clock is running ({why}; {where}).",
        )
    lines = [
        f"{label} target: {_human(clock.duration)} of business time for {prio.value} priority "
        f"({where})."
    ]
    counted = cal.next_open(clock.start)
    opener = (
        "Clock started at the customer's reply" if target_name == NEXT_REPLY else "Clock started"
    )
    if counted == clock.start:
        lines.append(f"{opener} {_when(clock.start, zone, year=True)}.")
    else:
        lines.append(
            f"{opener} {_when(clock.start, zone, year=True)} (outside hours) → counted "
            f"from {_when(counted, zone)}."
        )
    end = clock.due_at or clock.met_at or now or clock.start
    shown: list[Pause] = []
    for p in clock.pauses:
        if p.start >= end and clock.due_at is not None:
            continue  # after the due time: it did not move it
        if p.end is not None and p.end <= clock.start:
            continue
        start = max(p.start, clock.start)
        shown.append(Pause(start, p.end, p.reason))
        why = _REASONS.get(p.reason, p.reason)
        if p.end is None:
            lines.append(
                f"Paused since {_when(start, zone)} ({why}): the clock is stopped, "
                "so there is no due time until the case is active again."
            )
        else:
            lost = cal.business_between(start, p.end)
            lines.append(
                f"Paused {_when(start, zone)} → {_when(p.end, zone)} ({why}): "
                f"{_human(lost)} of business time not counted."
            )
    last = (clock.due_at or clock.met_at or now or clock.start).astimezone(zone).date()
    holidays = _holidays_between(cal, clock.start.astimezone(zone).date(), last)
    for h in holidays:
        span = "" if h.whole_day else f" ({_range_text(TimeRange(*h.closed_span()))} closed)"
        name = f" ({h.name})" if h.name else ""
        lines.append(
            f"Holiday skipped: {_DAYS[h.date.weekday()]} {h.date.day} "
            f"{_MONTHS[h.date.month - 1]}{span}{name}."
        )
    if clock.due_at is not None:
        lines.append(f"Due {_when(clock.due_at, zone)} ({cal.timezone}).")
    if clock.warn_at is not None and clock.due_at is not None:
        lines.append(f"Warning from {_when(clock.warn_at, zone)}.")
    breached = state is not None and state.state == "breached"
    if state is not None and breached and state.breached_at is not None:
        lines.append(
            f"Breached at {_when(state.breached_at, zone)}; a breach stays on record "
            "even if the due time moves later."
        )
    if clock.met_at is not None:
        if clock.due_at is not None and clock.met_at > clock.due_at:
            late = cal.business_between(clock.due_at, clock.met_at)
            lines.append(f"Met {_when(clock.met_at, zone)}, {_human(late)} of business time late.")
        else:
            lines.append(f"Met {_when(clock.met_at, zone)}, on time.")
    elif now is not None and clock.due_at is not None and not breached:
        left = cal.business_between(now, clock.due_at)
        if left > _ZERO:
            lines.append(f"Now {_when(now, zone)}: {_human(left)} of business time left.")
        else:
            lines.append(f"Now {_when(now, zone)}: overdue by {_human(left)} of business time.")
    return DueExplanation(
        target_name,
        policy.id,
        prio,
        clock.duration,
        clock.start,
        counted,
        tuple(shown),
        cal.timezone,
        windows,
        holidays,
        clock.due_at,
        clock.warn_at,
        clock.met_at,
        state.state if state else None,
        "\n".join(lines),
    )


# --- the SLA part of a case ---------------------------------------------------------------------

SLA_ENTRY_KINDS: Final = frozenset({"status_changed", "reply"})
"""The timeline entry kinds SLA clocks read: status changes (pauses, the resolved stretch) and
replies (first response, next-reply cycles). :class:`SlaCase` keeps only these."""


class SlaSubject(Protocol):
    """What :func:`evaluate` and policy selection read from a case.

    :class:`~caselib.cases.Case` has all of it; so does :class:`SlaCase`, the breach sweep's
    working copy. ``timeline`` needs only the entries of :data:`SLA_ENTRY_KINDS`, in order.
    """

    @property
    def status_category(self) -> StatusCategory: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def sla_started_at(self) -> datetime | None: ...
    @property
    def sla_policy(self) -> str | None: ...
    @property
    def sla_targets(self) -> Sequence[SlaTarget]: ...
    @property
    def timeline(self) -> Sequence[TimelineEntry]: ...
    @property
    def memo(self) -> dict[str, Any]: ...
    @property
    def category(self) -> str | None: ...
    @property
    def subcategory(self) -> str | None: ...
    @property
    def case_type(self) -> str | None: ...
    @property
    def source(self) -> Source: ...
    @property
    def tags(self) -> frozenset[str]: ...
    @property
    def custom(self) -> Mapping[str, CustomValue]: ...
    @property
    def links(self) -> Links: ...


@attrs.define(eq=False)
class SlaCase:
    """The part of a case that its SLA clocks read and the breach sweep changes.

    Why it exists: a breach touches a handful of fields (priority, targets, pauses,
    ``updated_at``), one timeline line and two events, yet loading and saving the whole
    aggregate decodes and re-encodes every field and every timeline entry. A store that
    offers :class:`~caselib.ports.SlaSweepRepository` reads this part only and writes the
    change in place; for any other store the sweep takes it from the loaded case with
    :meth:`of` and hands the change back with :meth:`apply_to`, so the decisions are the same
    code either way.

    ``timeline`` holds only the entries of :data:`SLA_ENTRY_KINDS`; ``entry_count`` is the
    length of the whole timeline (the next entry's ``seq`` is one more). What the sweep
    records is collected in ``new_entries`` and ``events`` until a store saves it.
    """

    id: str
    tenant: str
    number: str
    subject: str
    version: int
    status_category: StatusCategory
    priority: Priority
    assignee: str | None
    team: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_at: datetime | None
    sla_policy: str | None
    sla_started_at: datetime | None
    pauses: list[Pause]
    sla_targets: list[SlaTarget]
    category: str | None
    subcategory: str | None
    case_type: str | None
    source: Source
    tags: frozenset[str]
    custom: Mapping[str, CustomValue]
    links: Links
    timeline: list[TimelineEntry]
    entry_count: int
    new_entries: list[TimelineEntry] = attrs.field(factory=list)
    events: list[DomainEvent] = attrs.field(factory=list)
    memo: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def of(cls, case: Case) -> SlaCase:
        """The SLA part of ``case`` (its lists copied, so changes stay here until
        :meth:`apply_to`)."""
        return cls(
            case.id, case.tenant, case.number, case.subject, case.version,
            case.status_category, case.priority, case.assignee, case.team, case.created_at,
            case.updated_at, case.resolved_at, case.closed_at, case.first_response_at,
            case.sla_policy, case.sla_started_at, list(case.pauses), list(case.sla_targets),
            case.category, case.subcategory, case.case_type, case.source, case.tags,
            case.custom, case.links,
            [e for e in case.timeline if e.kind in SLA_ENTRY_KINDS], len(case.timeline))

    def apply_to(self, case: Case) -> None:
        """Make the same changes to ``case``, the full case this was taken from."""
        if case.id != self.id or len(case.timeline) + len(self.new_entries) != self.entry_count:
            raise InvalidInput(f"SLA part of case {self.id!r} does not belong to case "
                               f"{case.id!r} as it is now; take a fresh SlaCase.of(case)")
        case.priority = self.priority
        case.sla_targets = list(self.sla_targets)
        case.pauses = list(self.pauses)
        case.updated_at = self.updated_at
        case.timeline.extend(self.new_entries)
        for event in self.events:
            case.emit(event)
        self.new_entries, self.events = [], []  # handed over: the case's save writes them

    @property
    def next_due_at(self) -> datetime | None:
        """As :attr:`Case.next_due_at <caselib.cases.Case.next_due_at>`."""
        return next_due_of(self.sla_targets)

    @property
    def breached(self) -> bool:
        """As :attr:`Case.breached <caselib.cases.Case.breached>`."""
        return any_breached(self.sla_targets)

    def record_breach(self, target: str, body: str, *, actor: Actor, at: datetime,
                      priority: Priority | None = None, **data: Any) -> TimelineEntry:
        """As :meth:`Case.record_breach <caselib.cases.Case.record_breach>`: one
        ``sla_breached`` entry, raising the priority to ``priority`` in the same entry."""
        at = aware_utc(at, "at")
        old = self.priority
        if priority is not None and priority is not old:
            self.priority = priority
            self.events.append(PriorityChanged(self.id, self.tenant, at, actor.id, old.value,
                                               priority.value, BREACH_REASON))
        self.entry_count += 1
        entry = breach_entry(self.entry_count, target, body, actor=actor, at=at, old=old,
                             new=priority, data=data)
        self.new_entries.append(entry)
        self.updated_at = at
        return entry

    def emit(self, event: DomainEvent) -> None:
        """Collect an event for the store to write with the change."""
        self.events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        """Hand the collected events to the store and forget them."""
        events, self.events = self.events, []
        return events

    def mark_saved(self, version: int) -> None:
        """Record that the change is written (a store calls this after saving it)."""
        self.version = version
        self.new_entries = []
        self.events = []
