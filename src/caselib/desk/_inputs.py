"""The desk's boundary checks: the parameters a use case reads itself, checked at its top.

Why here and not deeper: a use case hands ``actor`` to the access checks and to the domain,
``case_id`` to a store, ``expected_version`` to its own comparison, flags and limits to its
own logic and ``sink`` / ``notifier`` to calls it makes after a commit. A wrong type there
used to surface as an ``AttributeError`` from deep inside, or as a driver error that differed
from store to store (a huge int as a case id: ``OverflowError`` from SQLite; a lone surrogate:
``UnicodeEncodeError`` from SQLite and PostgreSQL, a silent miss on the memory store). Checked
once here, before anything is read or written, each raises the same
:class:`~caselib.errors.WrongType` or :class:`~caselib.errors.InvalidInput` on every store.

What the domain reads (subjects, comments, tags, custom fields, links, priorities …) is
checked by the domain's own values and commands (:mod:`caselib.cases.values`,
:class:`~caselib.ports.CaseQuery`, :class:`~caselib.kb.Article`), with the same
:mod:`caselib.checks`, so every path into a case refuses the same input; this module does not
repeat those checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Final

from caselib.cases import Actor, Case
from caselib.checks import MAX_INT, require_bool, require_int, require_mapping, require_str
from caselib.errors import InvalidInput, WrongType
from caselib.kb import Article
from caselib.ports import MAX_QUERY_LIMIT, CaseQuery

__all__ = [
    "MAX_HORIZON",
    "actor",
    "article",
    "article_id",
    "callable_",
    "case",
    "case_id",
    "command",
    "count",
    "expected_version",
    "flag",
    "horizon",
    "mapping",
    "notifier",
    "query",
    "query_or_filters",
    "sink",
]

MAX_HORIZON: Final = timedelta(days=36_500)
"""The longest look-ahead of :meth:`~caselib.ServiceDesk.approaching` (100 years): past that,
the arithmetic on "now" leaves the calendar."""

_ACTOR_HINT = "for example Actor.agent('ana') or Actor.customer('c-1')"


def actor(value: object) -> Actor:
    """The acting :class:`~caselib.cases.Actor`."""
    if not isinstance(value, Actor):
        raise WrongType("actor", "an Actor", value, _ACTOR_HINT)
    return value


def case_id(value: object, field: str = "case_id") -> str:
    """A case id (or number) a store can look up: a string every store can hold."""
    return require_str(value, field, "a case id (a string)")


def article_id(value: object) -> str:
    return require_str(value, "article_id", "an article id (a string)")


def expected_version(value: object) -> int | None:
    """``None`` (apply to the latest) or the version the caller loaded."""
    return None if value is None else require_int(value, "expected_version", 0, MAX_INT)


def command(case_id_: object, actor_: object, version: object = None) -> None:
    """What every command on one case takes: its id, the actor and ``expected_version``."""
    case_id(case_id_)
    actor(actor_)
    expected_version(version)


def flag(value: object, field: str) -> bool:
    return require_bool(value, field)


def count(value: object, field: str, lo: int = 1, hi: int = MAX_QUERY_LIMIT) -> int:
    """A limit or batch size from ``lo`` to ``hi`` (by default 1 to ``MAX_QUERY_LIMIT``):
    every store reads the same number of rows for it, where a negative ``LIMIT`` means
    "no limit" to SQLite and none at all to a Python slice."""
    return require_int(value, field, lo, hi)


def mapping(value: object, field: str) -> dict[str, Any]:
    """A mapping with string keys (field names)."""
    data = require_mapping(value, field)
    for key in data:
        require_str(key, field, "a mapping with string keys")
    return dict(data)  # the keys were checked above


def query(value: object) -> CaseQuery | None:
    if value is not None and not isinstance(value, CaseQuery):
        raise WrongType("query", "a CaseQuery or None", value,
                        "or pass the filters as keywords: find_cases(teams=['support'])")
    return value


def query_or_filters(query: CaseQuery | None, filters: Mapping[str, object]) -> None:
    """One of the two: filters beside a query would be ignored without a word."""
    if query is not None and filters:
        raise InvalidInput(
            f"pass a CaseQuery or filters as keywords, not both (got query and "
            f"{', '.join(sorted(filters))}); add them to the query: "
            "attrs.evolve(query, teams=...)",
            field="query",
        )


def case(value: object) -> Case:
    if not isinstance(value, Case):
        raise WrongType("case", "a Case", value, "load one with desk.get_case(case_id)")
    return value


def article(value: object) -> Article:
    if not isinstance(value, Article):
        raise WrongType("article", "an Article", value)
    return value


def horizon(value: object) -> timedelta:
    """A look-ahead for the amber list: a ``timedelta`` within :data:`MAX_HORIZON`."""
    if not isinstance(value, timedelta):
        raise WrongType("within", "a timedelta", value, "for example timedelta(hours=4)")
    if abs(value) > MAX_HORIZON:
        raise InvalidInput(f"within must be at most {MAX_HORIZON.days} days either way",
                           field="within")
    return value


def _port(value: object, field: str, method: str, what: str) -> None:
    if not callable(getattr(value, method, None)):
        raise WrongType(field, f"an object with a {method}() method ({what})", value)


def sink(value: object) -> None:
    """An :class:`~caselib.ports.EventSink`: checked before any message is claimed."""
    _port(value, "sink", "publish", "an EventSink")


def notifier(value: object) -> None:
    """``None`` or a :class:`~caselib.ports.Notifier`: checked before the sweep writes."""
    if value is not None:
        _port(value, "notifier", "notify", "a Notifier")


def callable_(value: object, field: str) -> Callable[..., Any]:
    if not callable(value):
        raise WrongType(field, "a callable", value, "for example lambda: desk.get_case(cid)")
    return value
