"""Check that a desk's access rules agree with themselves, against a host's own roles.

:func:`check_access_agreement` is what caselib's own property test runs on every store; a host
that defines its roles calls it in its test suite over its fixtures, so a list view and an
object check can never drift apart unnoticed (the bug class behind most helpdesk IDORs).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from caselib.cases import Actor
from caselib.desk import ServiceDesk
from caselib.errors import CaseNotFound, PermissionDenied
from caselib.ports import MAX_QUERY_LIMIT, CaseQuery

__all__ = ["AccessDisagreement", "check_access_agreement", "listed_ids", "readable_ids"]


class AccessDisagreement(AssertionError):
    """``actor`` lists cases it may not open (``listed_only``) or may open cases its list
    leaves out (``readable_only``)."""

    def __init__(self, actor: Actor, listed_only: Iterable[str],
                 readable_only: Iterable[str]) -> None:
        self.actor = actor
        self.listed_only = frozenset(listed_only)
        self.readable_only = frozenset(readable_only)
        super().__init__(
            f"access disagrees for {actor!r}: listed but not readable "
            f"{sorted(self.listed_only)}, readable but not listed {sorted(self.readable_only)}")


def listed_ids(desk: ServiceDesk, actor: Actor, query: CaseQuery | None = None
               ) -> set[str] | None:
    """Every case id ``desk.find_cases`` lists for ``actor``, all pages; ``None`` when the
    actor may not list cases at all (:class:`PermissionDenied`)."""
    q = attrs.evolve(query or CaseQuery(), limit=MAX_QUERY_LIMIT, after=None)
    ids: set[str] = set()
    try:
        while True:
            page = desk.find_cases(q, actor=actor)
            ids.update(s.id for s in page.items)
            if page.next_cursor is None:
                return ids
            q = attrs.evolve(q, after=page.next_cursor)
    except PermissionDenied:
        return None


def readable_ids(desk: ServiceDesk, actor: Actor, case_ids: Iterable[str]) -> set[str]:
    """The ids among ``case_ids`` that ``desk.get_case`` opens for ``actor``."""
    allowed: set[str] = set()
    for case_id in case_ids:
        try:
            desk.get_case(case_id, actor=actor)
        except (PermissionDenied, CaseNotFound):
            continue
        allowed.add(case_id)
    return allowed


def check_access_agreement(desk: ServiceDesk, actors: Iterable[Actor]) -> None:
    """Raise :class:`AccessDisagreement` unless, for every actor, the cases ``find_cases``
    lists are exactly the cases ``get_case`` opens (over every case of the desk's tenant),
    and ``count_by_status`` and ``count_cases`` count exactly those.

    Run it in your tests over fixtures with your own roles, teams and customers::

        check_access_agreement(desk, [Actor.agent("ana", "support", teams={"billing"}),
                                      Actor.customer("c-1", account="acme")])
    """
    every = listed_ids(desk, Actor.system()) or set()
    for actor in actors:
        listed = listed_ids(desk, actor)
        readable = readable_ids(desk, actor, every)
        shown = listed or set()
        if shown != readable:
            raise AccessDisagreement(actor, frozenset(shown - readable),
                                     frozenset(readable - shown))
        if listed is not None:
            counted = sum(desk.count_by_status(actor=actor).values())
            if counted != len(listed):
                raise AssertionError(f"count_by_status counts {counted} cases for {actor!r}, "
                                     f"find_cases lists {len(listed)}")
            total = desk.count_cases(actor=actor)
            if total != len(listed):
                raise AssertionError(f"count_cases counts {total} cases for {actor!r}, "
                                     f"find_cases lists {len(listed)}")
