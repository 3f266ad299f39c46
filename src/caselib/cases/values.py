"""Case values: the actor, tenant case policy, links, evidence, timeline entries, outcomes.

Values (links, attachments, timeline entries, resolutions, CSAT) are frozen attrs classes.

The limits on case input (text lengths, tags, custom fields) and the small validators that
enforce them live here too: the values validate themselves with them, and
:class:`~caselib.cases.Case` (the module above this one) checks its commands with the same ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from caselib.checks import (
    bool_attribute,
    instance_attribute,
    require_int,
    require_mapping,
    require_str,
    require_strs,
    storable,
)
from caselib.errors import InvalidInput, TextTooLong, UnknownValue, WrongType
from caselib.timeutil import aware_utc
from caselib.vocab import (
    DEFAULT_VOCABULARY,
    ActorKind,
    Audience,
    Priority,
    Vocabulary,
)

__all__ = [
    "BODY_MAX_LENGTH",
    "DESCRIPTION_MAX_LENGTH",
    "SUBJECT_MAX_LENGTH",
    "Actor",
    "Attachment",
    "CasePolicy",
    "Csat",
    "CustomValue",
    "Links",
    "NumberFormat",
    "Redaction",
    "Resolution",
    "TimelineEntry",
]

SUBJECT_MAX_LENGTH: Final = 250
"""Longest subject accepted (characters). Subjects are list-view lines, not documents."""
DESCRIPTION_MAX_LENGTH: Final = 20_000
BODY_MAX_LENGTH: Final = 50_000
"""Longest comment, note or resolution text. Attach longer material as evidence."""
SHORT_TEXT_MAX_LENGTH: Final = 200
"""Longest id-like value: assignee, team, link ids, tags, codes."""
MAX_TAGS: Final = 50
MAX_CUSTOM_FIELDS: Final = 100
CUSTOM_TEXT_MAX_LENGTH: Final = 2_000

CustomValue = str | int | float | bool | None
"""A custom field holds one JSON scalar; nested data belongs in the host's own tables."""

_CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TAG = re.compile(r"^[^\s,]{1,64}$")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Characters no tag may hold: C0 and C1 controls (NUL, terminal escapes …) and lone
surrogates."""


# --- small validators ------------------------------------------------------------------------


def _text(value: object, field: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise WrongType(field, "text (a str)", value)
    # no store can keep NUL or a lone surrogate (and no human typed one)
    text = storable(value.strip(), field)
    if required and not text:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(text) > limit:
        raise TextTooLong(field, len(text), limit)
    return text


def _opt_id(value: object, field: str) -> str | None:
    if value is None:
        return None
    text = _text(value, field, SHORT_TEXT_MAX_LENGTH, required=False)
    return text or None


def _tags(values: Iterable[object]) -> frozenset[str]:
    require_strs(values, "tags")  # one string would be read letter by letter
    out: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            raise WrongType("tags", "a list of strings", value, f"the tag {value!r}")
        if _CONTROL.search(value):
            raise InvalidInput(f"tag {value!r} contains a control character or a lone "
                               "surrogate; tags are plain words", field="tags")
        if not _TAG.match(value.strip()):
            raise InvalidInput(
                f"tag {value!r} must be 1–64 characters without spaces or commas", field="tags"
            )
        out.add(value.strip().lower())
    if len(out) > MAX_TAGS:
        raise InvalidInput(f"a case holds at most {MAX_TAGS} tags, got {len(out)}", field="tags")
    return frozenset(out)


def validate_custom_fields(values: Mapping[str, object]) -> dict[str, CustomValue]:
    """Check custom fields are ``snake_case`` keys with JSON scalar values within limits."""
    require_mapping(values, "custom")
    if len(values) > MAX_CUSTOM_FIELDS:
        raise InvalidInput(f"at most {MAX_CUSTOM_FIELDS} custom fields", field="custom")
    out: dict[str, CustomValue] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not _CUSTOM_KEY.match(key):
            raise InvalidInput(
                f"custom field name {key!r} must be snake_case, 1–64 characters, "
                "starting with a letter",
                field="custom",
            )
        field = f"custom.{key}"
        if isinstance(value, bool) or value is None:
            out[key] = value
        elif isinstance(value, int):
            if abs(value) > 2**53:
                raise InvalidInput(f"{field} is outside ±2**53 (not JSON-safe)", field=field)
            out[key] = value
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidInput(f"{field} must be a finite number", field=field)
            out[key] = value
        elif isinstance(value, str):
            storable(value, field)
            if len(value) > CUSTOM_TEXT_MAX_LENGTH:
                raise TextTooLong(field, len(value), CUSTOM_TEXT_MAX_LENGTH)
            out[key] = value
        else:
            raise InvalidInput(
                f"{field} must be a string, number, boolean or null, got {type(value).__name__}",
                field=field,
            )
    return out


def _str(value: object, field: str) -> str:
    return require_str(value, field, "text (a str)")


def _check_csat(score: object) -> None:
    if isinstance(score, bool) or not isinstance(score, int):
        raise WrongType("csat", "a CSAT score (a whole number from 1 to 5)", score)
    if not 1 <= score <= 5:
        raise InvalidInput(f"CSAT must be a whole number from 1 to 5, got {score!r}",
                           field="csat")


# --- values ----------------------------------------------------------------------------------


def _link_id(value: object) -> str | None:
    return _opt_id(value, "link")


def _actor_kind(value: object) -> ActorKind:
    return ActorKind.parse(value)


def _roles(value: Iterable[str]) -> frozenset[str]:
    roles = list(require_strs(value, "actor.roles"))
    for role in roles:
        require_str(role, "actor.roles", "a list of strings")
    return frozenset(roles)  # type: ignore[arg-type]  # each item checked above


def _check_actor_id(_inst: object, _attr: attrs.Attribute[str], value: str) -> None:
    if not require_str(value, "actor.id", "a non-empty string").strip():
        # blank is refused like empty: a stored document's reader refuses both, so an
        # actor the domain took must round-trip through serialize and the stores
        raise InvalidInput("actor.id must not be empty or blank", field="actor.id")


def _check_actor_name(_inst: object, _attr: attrs.Attribute[str | None], value: str | None
                       ) -> None:
    if value is not None:
        require_str(value, "actor.name", "a string or None")


def _actor_name(value: object) -> str | None:
    """A display name ("Ana Ruiz"), stripped; ``None`` or blank means the actor has none."""
    return None if value is None else (_text(value, "actor name", SHORT_TEXT_MAX_LENGTH,
                                             required=False) or None)


def _attachment_name(value: object) -> str:
    return _text(value, "attachment name", 255)


def _content_type(value: object) -> str:
    return _text(value, "content_type", 255)


def _storage_key(value: object) -> str:
    return _text(value, "storage_key", 1024)


def _added_at(value: object) -> datetime:
    return aware_utc(value, "added_at")


@attrs.frozen
class Actor:
    """Who performs a command. Every :class:`~caselib.ServiceDesk` method takes one.

    ``roles`` name roles of the desk's :class:`~caselib.access.AccessPolicy` (``"support"``,
    ``"manager"`` …); ``teams`` are the queues the person works in, which team-scoped roles
    see; a customer's ``id`` is its contact id and ``account`` its company, which decide the
    cases it may reach. The host fills them from its own user records on each request;
    ``name`` is the display name kept on the timeline entries the actor writes.
    """

    id: str = attrs.field(validator=_check_actor_id)
    kind: ActorKind = attrs.field(default=ActorKind.AGENT, converter=_actor_kind)
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)
    name: str | None = attrs.field(default=None, converter=_actor_name)
    """Display name; kept on the timeline entries the actor writes (``actor_name``), so a
    portal can show "Ana" rather than a login."""
    teams: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)
    account: str | None = None

    @classmethod
    def agent(cls, id: str, *roles: str, name: str | None = None,
              teams: Iterable[str] = ()) -> Actor:
        """An agent (support staff member) holding ``roles``, working in ``teams``."""
        return cls(id, ActorKind.AGENT, frozenset(roles), name, frozenset(teams))

    @classmethod
    def customer(cls, id: str, name: str | None = None, *, account: str | None = None
                 ) -> Actor:
        """A customer: the contact ``id`` (of ``account``, if any) replying from the portal
        or by e-mail. It reaches only cases whose contact or account is its own."""
        return cls(id, ActorKind.CUSTOMER, frozenset(), name, frozenset(), account)

    @classmethod
    def system(cls, id: str = "caselib") -> Actor:
        """caselib itself or a host job (sweeps, automations)."""
        return cls(id, ActorKind.SYSTEM, frozenset({"admin"}), None)

    @property
    def is_admin(self) -> bool:
        """Admins and system actors may run admin actions such as the breach sweep."""
        return self.kind is ActorKind.SYSTEM or "admin" in self.roles

    @property
    def is_customer(self) -> bool:
        """Whether this is a customer (as opposed to an agent or caselib itself)."""
        return self.kind is ActorKind.CUSTOMER


def _prefix(_instance: object, attribute: Any, value: object) -> None:
    require_str(value, attribute.name, "text such as 'CASE-' (or '')")


def _padding(_instance: object, attribute: Any, value: object) -> None:
    # a counter has at most 19 digits (a store's BIGINT): wider padding is only zeros
    require_int(value, attribute.name, 0, 20)


@attrs.frozen
class NumberFormat:
    """How human case numbers look: ``prefix`` + zero-padded counter (``CASE-0494``, ``SC-184``)."""

    prefix: str = attrs.field(default="CASE-", validator=_prefix)
    padding: int = attrs.field(default=4, validator=_padding)

    def format(self, n: int) -> str:
        """``NumberFormat("SC-", 3).format(184) == "SC-184"``."""
        return f"{self.prefix}{n:0{self.padding}d}"

    def spellings(self, number: object) -> tuple[str, ...]:
        """The stored spellings ``number`` may stand for, most likely first.

        People type ``case-0042`` or `` CASE-0042 `` for ``CASE-0042``: the prefix is matched
        case-insensitively and given its own spelling, surrounding blanks dropped. A number
        without the prefix is tried as typed, then upper-cased, for numbers given under an
        earlier prefix (a tenant that moved from ``SC-`` to ``CASE-`` still finds
        ``sc-184``). Every store looks up these exact spellings, so all of them agree.

        >>> NumberFormat().spellings(" case-0042")
        ('CASE-0042',)
        >>> NumberFormat().spellings("sc-184")
        ('sc-184', 'SC-184')
        """
        if not isinstance(number, str):
            raise InvalidInput(f"a case number is text, got {type(number).__name__}",
                               field="number")
        text = number.strip()
        size = len(self.prefix)
        if size and text[:size].casefold() == self.prefix.casefold():
            return (self.prefix + text[size:],)
        return tuple(dict.fromkeys((text, text.upper())))


def _default_priority(value: object) -> Priority:
    """A :class:`Priority` or its name (``"high"``, ``"critical"`` …), as every command
    takes one; the setting is named when it is neither."""
    if isinstance(value, Priority):
        return value
    if not isinstance(value, str):
        raise WrongType("default_priority", "a Priority (or its name such as 'normal')", value)
    try:
        return Priority.parse(value)
    except UnknownValue:
        raise UnknownValue("default_priority", value, [p.value for p in Priority]) from None


@attrs.frozen
class CasePolicy:
    """Per-tenant rules for case data: vocabulary, numbering and required links."""

    vocabulary: Vocabulary = attrs.field(default=DEFAULT_VOCABULARY, validator=instance_attribute(
        Vocabulary, "a Vocabulary"))
    numbers: NumberFormat = attrs.field(default=NumberFormat(), validator=instance_attribute(
        NumberFormat, "a NumberFormat (e.g. NumberFormat('SC-', 3))"))
    require_account: bool = attrs.field(default=False, validator=bool_attribute)
    """Some CRMs refuse a case that is not tied to a customer account."""
    default_priority: Priority = attrs.field(default=Priority.NORMAL,
                                             converter=_default_priority)


@attrs.frozen
class Links:
    """Ids of host records the case is about. caselib stores ids only, never the records."""

    contact: str | None = attrs.field(default=None, converter=_link_id)
    account: str | None = attrs.field(default=None, converter=_link_id)
    deal: str | None = attrs.field(default=None, converter=_link_id)
    order: str | None = attrs.field(default=None, converter=_link_id)
    order_line: str | None = attrs.field(default=None, converter=_link_id)
    product: str | None = attrs.field(default=None, converter=_link_id)
    installation: str | None = attrs.field(default=None, converter=_link_id)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Links:
        """Build from a mapping, refusing unknown link names."""
        names = {a.name for a in attrs.fields(cls)}
        unknown = set(require_mapping(data, "links")) - names
        if unknown:
            raise UnknownValue("link", sorted(unknown, key=repr)[0], sorted(names))
        return cls(**data)

    def to_dict(self) -> dict[str, str]:
        """Only the links that are set."""
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@attrs.frozen
class Attachment:
    """Evidence metadata. The bytes stay in the host's blob storage under ``storage_key``."""

    name: str = attrs.field(converter=_attachment_name)
    content_type: str = attrs.field(converter=_content_type)
    size: int = attrs.field()
    sha256: str = attrs.field()
    storage_key: str = attrs.field(converter=_storage_key)
    added_at: datetime = attrs.field(converter=_added_at)
    added_by: str = attrs.field(validator=_check_actor_id)

    @size.validator
    def _check_size(self, _: object, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput("attachment size must be a non-negative integer", field="size")

    @sha256.validator
    def _check_sha(self, _: object, value: str) -> None:
        if not isinstance(value, str) or not _SHA256.fullmatch(value):
            raise InvalidInput("sha256 must be 64 lowercase hex digits", field="sha256")


@attrs.frozen
class Redaction:
    """Who removed a comment's text, when and why. The entry and its audience stay."""

    by: str
    at: datetime
    reason: str


@attrs.frozen
class TimelineEntry:
    """One line of a case's history; append-only.

    ``kind`` is ``"note"`` (internal), ``"reply"`` (public) or an activity name
    (``"status_changed"``, ``"priority_changed"``, ``"assigned"``, ``"fields_changed"`` …) whose
    old/new values are in ``data``. The audience is fixed at creation; a wrong entry is
    redacted (its text removed, :class:`Redaction` kept) and a corrected one added. ``actor``
    is the actor's id; :attr:`shown_as` is what a person should read.
    """

    seq: int
    at: datetime
    actor: str
    actor_kind: ActorKind
    audience: Audience
    kind: str
    body: str = ""
    data: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    redaction: Redaction | None = None
    actor_name: str | None = None
    """The actor's display name when the entry was written (:attr:`Actor.name`), so history
    shows who wrote it as people saw them then; ``None`` for nameless actors and for entries
    stored before caselib kept names."""

    @property
    def shown_as(self) -> str:
        """The writer's display name, or their id when they had none."""
        return self.actor_name or self.actor

    @property
    def is_comment(self) -> bool:
        """Notes and replies can be redacted; activity entries cannot."""
        return self.kind in ("note", "reply")

    def describe(self) -> str:
        """One line for an activity feed: ``"open → in_progress: waiting on logs"``."""
        d = self.data
        if self.redaction is not None:
            return f"[redacted by {self.redaction.by}: {self.redaction.reason}]"
        if self.kind == "status_changed":
            text = f"{d.get('old')} → {d.get('new')}"
        elif self.kind == "priority_changed":
            text = f"priority {d.get('old')} → {d.get('new')}"
        elif self.kind == "assigned":
            text = (f"assigned to {d.get('new_assignee') or 'nobody'}"
                    f" in queue {d.get('new_team') or '-'}")
        elif self.kind == "fields_changed":
            text = "changed " + ", ".join(sorted(d))
        elif self.kind == "created":
            text = f"case opened as {d.get('status')}"
        elif self.body or not d:
            return self.body
        else:
            text = ", ".join(f"{k}={v}" for k, v in d.items())
        return f"{text}: {self.body}" if self.body else text


@attrs.frozen
class Resolution:
    """How a case was resolved. Every resolution is kept, also after a reopen."""

    summary: str
    at: datetime
    by: str
    code: str | None = None
    path: str | None = None


@attrs.frozen
class Csat:
    """Customer satisfaction, 1 (very unhappy) to 5 (very happy)."""

    score: int
    at: datetime
    by: str
    comment: str | None = None
