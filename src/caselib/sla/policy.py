"""SLA policies: business-time targets per priority (:class:`SlaTargets`), a policy that
measures them on one business calendar with its warning rule (:class:`SlaPolicy`), and the
choice of a policy per case (:class:`SlaCondition`, :class:`SlaPolicies`).

Separate from the clocks (:mod:`caselib.sla.clock`): this is configuration, built once,
validated, compared and serialised with ``to_dict`` / ``from_dict``; the clocks only read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Final

import attrs

from caselib.cases import Links
from caselib.checks import instance_attribute, require_items
from caselib.errors import InvalidConfiguration, UnknownValue
from caselib.sla.calendar import BusinessCalendar
from caselib.sla.durations import format_duration, parse_duration
from caselib.sla.subject import SlaSubject
from caselib.vocab import Priority

__all__ = [
    "FIRST_RESPONSE",
    "NEXT_REPLY",
    "RESOLUTION",
    "TARGET_NAMES",
    "SlaCondition",
    "SlaPolicies",
    "SlaPolicy",
    "SlaTargets",
]

FIRST_RESPONSE: Final = "first_response"
RESOLUTION: Final = "resolution"
NEXT_REPLY: Final = "next_reply"
TARGET_NAMES: Final[tuple[str, ...]] = (FIRST_RESPONSE, RESOLUTION, NEXT_REPLY)
"""Target names, in the order :func:`evaluate` lists them."""

_LADDER: Final = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


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


def _coerce_rules(value: object) -> tuple[tuple[SlaCondition, SlaPolicy], ...]:
    out: list[tuple[SlaCondition, SlaPolicy]] = []
    for item in require_items(value, "rules", "a list of (SlaCondition, SlaPolicy) pairs"):
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
    default: SlaPolicy = attrs.field(
        factory=SlaPolicy.default, validator=instance_attribute(SlaPolicy, "an SlaPolicy"))
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
