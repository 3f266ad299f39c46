"""Typed links between cases: :class:`LinkKind` and :class:`CaseLink`.

A link is stored once, in one direction (``source`` *kind* ``target``: "CASE-1 parent_of
CASE-2", "CASE-3 duplicate_of CASE-1"), and read from either end: :meth:`CaseLink.role_for`
names it as the case at hand sees it (the child reads ``child_of``). Storing one row per link,
rather than one on each case, is what makes links two-way without a second write that could
drift from the first. ``related`` has no direction, so its ends are put in a fixed order and
"A related B" and "B related A" are the same link.

Pure values: the desk checks both cases exist in the tenant, the stores keep the rows.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

import attrs

from caselib.checks import require_str
from caselib.errors import InvalidInput, UnknownValue
from caselib.timeutil import aware_utc

__all__ = ["CaseLink", "LinkKind"]


class LinkKind(enum.StrEnum):
    """What a link says, read from its ``source`` to its ``target``."""

    PARENT_OF = "parent_of"
    """The source is the parent, the target its child (a child may block the parent's
    resolve: :attr:`~caselib.desk.TenantSettings.children_block_parent`)."""
    RELATED = "related"
    """Two cases about the same thing, neither above the other (undirected)."""
    DUPLICATE_OF = "duplicate_of"
    """The source repeats the target."""
    FOLLOW_UP_OF = "follow_up_of"
    """The source was opened to follow up the target (a late reply on a closed case)."""
    SPLIT_FROM = "split_from"
    """The source was split off the target, with some of its entries."""
    MERGED_INTO = "merged_into"
    """The source was merged into the target (the survivor)."""

    @property
    def inverse(self) -> str:
        """How the target end reads the link (``child_of`` for ``parent_of`` …)."""
        return _INVERSE[self]


_INVERSE: Final = {
    LinkKind.PARENT_OF: "child_of",
    LinkKind.RELATED: "related",
    LinkKind.DUPLICATE_OF: "duplicated_by",
    LinkKind.FOLLOW_UP_OF: "followed_up_by",
    LinkKind.SPLIT_FROM: "split_into",
    LinkKind.MERGED_INTO: "merged_from",
}


def _kind(value: object) -> LinkKind:
    if isinstance(value, LinkKind):
        return value
    if isinstance(value, str):
        try:
            return LinkKind(value)
        except ValueError:
            pass
    raise UnknownValue("kind", value, [k.value for k in LinkKind])


def _case_id(_inst: object, attr: attrs.Attribute[str], value: object) -> None:
    if not require_str(value, attr.name, "a case id (a non-empty string)"):
        raise InvalidInput(f"{attr.name} must be a case id, not empty", field=attr.name)


def _at(value: object) -> datetime:
    return aware_utc(value, "created_at")  # type: ignore[arg-type,unused-ignore]


@attrs.frozen
class CaseLink:
    """One link: ``source`` *kind* ``target``, made by ``created_by`` at ``created_at``.

    Build it with :meth:`make`, which puts a ``related`` link's ends in their fixed order, so
    equal links compare equal however they were asked for.
    """

    source: str = attrs.field(validator=_case_id)
    kind: LinkKind = attrs.field(converter=_kind)
    target: str = attrs.field(validator=_case_id)
    created_at: datetime = attrs.field(converter=_at, eq=False)
    created_by: str = attrs.field(default="system", eq=False)

    def __attrs_post_init__(self) -> None:
        if self.source == self.target:
            raise InvalidInput("a case cannot be linked to itself; pass two different cases",
                               field="target")

    @classmethod
    def make(cls, source: str, kind: LinkKind | str, target: str, *, at: datetime,
             by: str = "system") -> CaseLink:
        """The link ``source`` *kind* ``target`` (a ``related`` link with its ends ordered)."""
        kind = _kind(kind)
        if kind is LinkKind.RELATED and isinstance(source, str) and isinstance(target, str) \
                and target < source:
            source, target = target, source
        return cls(source, kind, target, at, by)

    @property
    def key(self) -> tuple[str, str, str]:
        """``(source, kind, target)``: what makes a link unique in its tenant."""
        return (self.source, self.kind.value, self.target)

    def involves(self, case_id: str) -> bool:
        """Whether ``case_id`` is one end of the link."""
        return case_id in (self.source, self.target)

    def other(self, case_id: str) -> str:
        """The end that is not ``case_id``."""
        return self.target if case_id == self.source else self.source

    def role_for(self, case_id: str) -> str:
        """The link as ``case_id`` reads it: the kind from the source, its inverse from the
        target (``parent_of`` / ``child_of``)."""
        return self.kind.value if case_id == self.source else self.kind.inverse
