"""Closed vocabularies of a case: priority ladder, severity, source, audience, status categories,
and the tenant-editable vocabulary of case types, categories and reason codes.

Enums are ``str``-valued so they serialise as their plain names; every enum offers ``parse``,
which accepts the documented aliases and raises :class:`~caselib.errors.UnknownValue` with the
allowed names otherwise (so a typo from a form never becomes a silent default).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Self

import attrs

from caselib.checks import require_mapping, require_strs
from caselib.errors import InvalidConfiguration, UnknownValue

__all__ = [
    "DEFAULT_VOCABULARY",
    "REASON_CODE_SYNONYMS",
    "ActorKind",
    "Audience",
    "Priority",
    "Severity",
    "Source",
    "StatusCategory",
    "Vocabulary",
]


class _ParseableEnum(enum.Enum):
    """An enum whose members parse from their value, case-insensitively, plus aliases."""

    @classmethod
    def _aliases(cls) -> Mapping[str, str]:
        return {}

    @classmethod
    def parse(cls, value: object) -> Self:
        """Return the member named by ``value`` (a member, its value, or an alias)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            exact = cls._value2member_map_.get(value)  # fast path: a canonical value
            if exact is not None:
                return exact  # type: ignore[return-value]
            key = value.strip().lower().replace("-", "_").replace(" ", "_")
            key = cls._aliases().get(key, key)
            try:
                return cls(key)
            except ValueError:
                pass
        field = "".join("_" + c.lower() if c.isupper() else c for c in cls.__name__).lstrip("_")
        raise UnknownValue(field, value, [str(m.value) for m in cls])

    def __str__(self) -> str:
        return str(self.value)


_PRIORITY_RANK: dict[str, int] = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


class Priority(_ParseableEnum):
    """How soon the case needs attention: an ordered ladder ``low < normal < high < urgent``.

    ``medium`` is accepted for ``normal`` and ``critical`` for ``urgent`` because the CRMs
    caselib plugs into use both vocabularies.
    """

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @classmethod
    def _aliases(cls) -> Mapping[str, str]:
        return {"medium": "normal", "critical": "urgent"}

    @property
    def rank(self) -> int:
        """Position on the ladder, 0 (low) to 3 (urgent); what stores index and sort on."""
        return _PRIORITY_RANK[self.value]

    @classmethod
    def from_rank(cls, rank: int) -> Priority:
        """The priority at ``rank`` on the ladder, clamped to the ends."""
        return _LADDER[max(0, min(rank, len(_LADDER) - 1))]

    def raise_one_rung(self) -> Priority:
        """One step up the ladder; ``urgent`` stays ``urgent``."""
        return Priority.from_rank(self.rank + 1)

    def lower_one_rung(self) -> Priority:
        """One step down the ladder; ``low`` stays ``low``."""
        return Priority.from_rank(self.rank - 1)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank >= other.rank


_LADDER: tuple[Priority, ...] = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


class Severity(_ParseableEnum):
    """Business impact, independent of priority: a blocker for one user can be low priority."""

    MINOR = "minor"
    MAJOR = "major"
    BLOCKER = "blocker"


class Source(_ParseableEnum):
    """The channel a case arrived through."""

    EMAIL = "email"
    WEB = "web"
    PHONE = "phone"
    CHAT = "chat"
    SLACK = "slack"
    API = "api"
    PORTAL = "portal"
    OTHER = "other"


class Audience(_ParseableEnum):
    """Who may see a timeline entry. Fixed when the entry is written and never changed."""

    INTERNAL = "internal"
    """Agent-only notes."""
    PUBLIC = "public"
    """Replies the customer sees."""
    SYSTEM = "system"
    """Activity caselib records (status, priority, assignment, field changes)."""


class StatusCategory(_ParseableEnum):
    """What a status *means* to SLA clocks and metrics, whatever a tenant calls it."""

    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    """The ball is in the customer's court: SLA clocks pause."""
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"
    """Merged into another case (:mod:`caselib.cases.merge`): outside every workflow, left
    out of SLA clocks and of every metric.

    .. versionadded:: 0.3
    """

    @property
    def is_active(self) -> bool:
        """True for new/open/waiting: the case still needs work."""
        return self in (StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.WAITING)


class ActorKind(_ParseableEnum):
    """Who performs a command. Customers may only add public replies and rate cases."""

    AGENT = "agent"
    CUSTOMER = "customer"
    SYSTEM = "system"


DEFAULT_CASE_TYPES = ("bug", "feature_request", "question", "billing", "onboarding", "other")

DEFAULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "General": (),
    "Billing": ("Invoice", "Refund", "Payment", "Subscription"),
    "Technical": ("Bug", "Outage", "Performance", "Integration", "Configuration"),
    "Account": ("Access", "Settings", "Cancellation"),
    "Delivery": ("Missing part", "Wrong item", "Damaged", "Late"),
    "Installation": ("Scheduling", "Site readiness", "Access"),
}

DEFAULT_REASON_CODES = (
    "missing_part",
    "wrong_item",
    "site_not_ready",
    "access_issue",
    "damaged",
    "defect",
    "how_to",
    "other",
)

REASON_CODE_SYNONYMS: tuple[tuple[str, ...], ...] = (("damaged", "damage"),)
"""Spellings of one reason code that the CRMs (and the product brief) use interchangeably.

A vocabulary that lists one member of a group accepts the others as aliases of it; it stores
the member it lists, so cases and metrics keep one spelling (the default lists ``damaged``,
the spelling caselib stored first, and accepts the brief's ``damage``)."""


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@attrs.frozen
class Vocabulary:
    """A tenant's allowed case types, categories (with subcategories) and reason codes.

    Matching is case-insensitive and whitespace-tolerant, and the canonical spelling from the
    vocabulary is what gets stored, so ``"billing"`` from one form and ``"Billing"`` from
    another land in the same bucket for routing and metrics.
    """

    case_types: tuple[str, ...] = DEFAULT_CASE_TYPES
    categories: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=lambda: dict(DEFAULT_CATEGORIES)
    )
    reason_codes: tuple[str, ...] = DEFAULT_REASON_CODES
    reason_code_aliases: Mapping[str, str] | None = None
    """Other spellings accepted for a reason code (``{"damage": "damaged"}``); ``None``: the
    :data:`REASON_CODE_SYNONYMS` that apply to ``reason_codes``."""
    _case_type_index: dict[str, str] = attrs.field(init=False, repr=False, eq=False)
    _category_index: dict[str, str] = attrs.field(init=False, repr=False, eq=False)
    _sub_index: dict[str, dict[str, str]] = attrs.field(init=False, repr=False, eq=False)
    _reason_index: dict[str, str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        def index(names: object, what: str, field: str) -> dict[str, str]:
            out: dict[str, str] = {}
            for name in require_strs(names, field):
                if not isinstance(name, str) or not name.strip():
                    raise InvalidConfiguration(f"vocabulary {what} must be non-empty strings")
                if _fold(name) in out:
                    raise InvalidConfiguration(f"vocabulary lists {what} {name!r} twice")
                out[_fold(name)] = name
            return out

        categories = require_mapping(self.categories, "categories")
        object.__setattr__(self, "_case_type_index",
                           index(self.case_types, "case type", "case_types"))
        object.__setattr__(self, "_category_index", index(list(categories), "category",
                                                          "categories"))
        object.__setattr__(
            self,
            "_sub_index",
            {
                _fold(cat): index(subs, f"subcategory of {cat!r}", f"categories[{cat!r}]")
                for cat, subs in categories.items()
            },
        )
        reasons = index(self.reason_codes, "reason code", "reason_codes")
        for alias, code in self._reason_aliases(reasons).items():
            reasons[_fold(alias)] = reasons[_fold(code)]
        object.__setattr__(self, "_reason_index", reasons)

    def _reason_aliases(self, reasons: Mapping[str, str]) -> dict[str, str]:
        """alias → listed code; the built-in synonyms only where the code is listed."""
        if self.reason_code_aliases is None:
            found: dict[str, str] = {}
            for group in REASON_CODE_SYNONYMS:
                listed = [name for name in group if _fold(name) in reasons]
                if len(listed) == 1:
                    found.update((name, listed[0]) for name in group if name != listed[0])
            return found
        if not isinstance(self.reason_code_aliases, Mapping):
            raise InvalidConfiguration("reason_code_aliases must map an alias to a reason code")
        for alias, code in self.reason_code_aliases.items():
            if not isinstance(alias, str) or not alias.strip():
                raise InvalidConfiguration("reason code aliases must be non-empty strings")
            if _fold(alias) in reasons:
                raise InvalidConfiguration(
                    f"{alias!r} is a reason code itself, so it cannot also be an alias")
            if not isinstance(code, str) or _fold(code) not in reasons:
                raise InvalidConfiguration(
                    f"reason code alias {alias!r} names {code!r}, which is not one of the "
                    "vocabulary's reason codes; list it in reason_codes first")
        return dict(self.reason_code_aliases)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocabulary:
        """Build from plain data: ``{"case_types": [...], "categories": {name: [subs]}, ...}``."""
        return cls(
            case_types=tuple(data.get("case_types", DEFAULT_CASE_TYPES)),
            categories={k: tuple(v) for k, v in data.get("categories", DEFAULT_CATEGORIES).items()},
            reason_codes=tuple(data.get("reason_codes", DEFAULT_REASON_CODES)),
            reason_code_aliases=data.get("reason_code_aliases"),
        )

    def case_type(self, value: str) -> str:
        """The canonical case type for ``value``, or :class:`UnknownValue`."""
        return _lookup(self._case_type_index, "case_type", value)

    def category(self, value: str) -> str:
        """The canonical category for ``value``, or :class:`UnknownValue`."""
        return _lookup(self._category_index, "category", value)

    def subcategory(self, category: str, value: str) -> str:
        """The canonical subcategory of ``category`` for ``value``, or :class:`UnknownValue`."""
        subs = self._sub_index.get(_fold(category), {})
        return _lookup(subs, f"subcategory of {category}", value)

    def reason_code(self, value: str) -> str:
        """The canonical reason code for ``value`` (aliases included), or
        :class:`UnknownValue`."""
        return _lookup(self._reason_index, "reason_code", value)


def _lookup(index: Mapping[str, str], field: str, value: object) -> str:
    if isinstance(value, str):
        found = index.get(_fold(value))
        if found is not None:
            return found
    raise UnknownValue(field, value, dict.fromkeys(index.values()))  # aliases listed once


DEFAULT_VOCABULARY = Vocabulary()
