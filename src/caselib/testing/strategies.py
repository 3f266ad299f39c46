"""Hypothesis strategies for caselib values, for the host's own property tests.

Needs ``hypothesis`` (it is in the ``dev`` extra, not a runtime dependency)::

    from hypothesis import given
    from caselib.testing import strategies as cst

    @given(cst.workflows())
    def test_my_board_accepts_any_workflow(workflow): ...
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from caselib.cases import SUBJECT_MAX_LENGTH, Actor, Status, Transition, Workflow
from caselib.vocab import (
    DEFAULT_CASE_TYPES,
    DEFAULT_CATEGORIES,
    DEFAULT_REASON_CODES,
    Audience,
    Priority,
    Severity,
    Source,
    StatusCategory,
)

__all__ = [
    "actors",
    "aware_datetimes",
    "case_fields",
    "commands",
    "priorities",
    "subjects",
    "workflows",
]

_text_alphabet = st.characters(blacklist_categories=("Cs", "Cc"))


def aware_datetimes(
    start: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    end: datetime = datetime(2035, 1, 1, tzinfo=UTC),
) -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes in ``[start, end)`` at whole seconds."""
    span = int((end - start).total_seconds())
    return st.integers(0, span - 1).map(lambda s: start + timedelta(seconds=s))


def priorities() -> st.SearchStrategy[str]:
    """Priority names including the accepted aliases."""
    return st.sampled_from([p.value for p in Priority] + ["medium", "critical", "HIGH"])


def subjects() -> st.SearchStrategy[str]:
    """Valid subjects (non-blank, within the limit)."""
    return st.text(_text_alphabet, min_size=1, max_size=SUBJECT_MAX_LENGTH).filter(
        lambda s: bool(s.strip())
    )


def actors() -> st.SearchStrategy[Actor]:
    """Agents and customers."""
    ids = st.sampled_from(["ana", "bo", "chen", "dee"])
    return st.one_of(ids.map(Actor.agent), ids.map(lambda i: Actor.customer(f"c-{i}")))


@st.composite
def case_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``ServiceDesk.create_case`` (minus ``actor``), all valid."""
    category = draw(st.none() | st.sampled_from(sorted(DEFAULT_CATEGORIES)))
    subs = DEFAULT_CATEGORIES.get(category or "", ())
    return {
        "subject": draw(subjects()),
        "description": draw(st.text(_text_alphabet, max_size=200)),
        "priority": draw(st.none() | priorities()),
        "severity": draw(st.none() | st.sampled_from([s.value for s in Severity])),
        "case_type": draw(st.none() | st.sampled_from(DEFAULT_CASE_TYPES)),
        "category": category,
        "subcategory": draw(st.none() | st.sampled_from(subs)) if subs else None,
        "reason_code": draw(st.none() | st.sampled_from(DEFAULT_REASON_CODES)),
        "source": draw(st.sampled_from([s.value for s in Source])),
        "tags": draw(st.lists(st.sampled_from(["vip", "hw", "sw", "eu", "us"]),
                              max_size=3, unique=True)),
        "custom": draw(st.dictionaries(
            st.sampled_from(["tier", "region", "seats", "trial"]),
            st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000),
                      st.text(_text_alphabet, max_size=20)),
            max_size=3)),
    }


@st.composite
def workflows(draw: st.DrawFn, max_statuses: int = 7) -> Workflow:
    """Random valid workflows: every status reachable from the initial one."""
    n = draw(st.integers(2, max_statuses))
    categories = [StatusCategory.NEW, *draw(
        st.lists(st.sampled_from(list(StatusCategory)), min_size=n - 1, max_size=n - 1))]
    statuses = [Status(f"s{i}", cat) for i, cat in enumerate(categories)]
    edges: set[tuple[int, int]] = set()
    for i in range(1, n):  # a spanning tree from s0 guarantees reachability
        edges.add((draw(st.integers(0, i - 1)), i))
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          max_size=n * 2))
    edges |= {(a, b) for a, b in extra if a != b}
    gates = st.frozensets(st.sampled_from(["note", "assignee"]), max_size=2)
    transitions = [Transition(f"s{a}", f"s{b}", draw(gates)) for a, b in sorted(edges)]
    return Workflow(draw(st.sampled_from(["random", "board", "flow"])), statuses, transitions)


def commands() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """``(command name, arguments)`` pairs for driving a ``ServiceDesk`` at random.

    Arguments may be invalid on purpose (missing notes, disallowed targets), since refusals
    are part of what a host must handle.
    """
    statuses = st.sampled_from(
        ["new", "open", "in_progress", "pending_customer", "resolved", "closed"])
    notes = st.none() | st.sampled_from(["", "fixed it", "customer confirmed"])
    return st.one_of(
        st.tuples(st.just("comment"), st.fixed_dictionaries({
            "body": st.sampled_from(["hello", "checking logs", "x" * 10]),
            "audience": st.sampled_from([Audience.INTERNAL.value, Audience.PUBLIC.value])})),
        st.tuples(st.just("transition"), st.fixed_dictionaries({"to": statuses,
                                                                 "note": notes})),
        st.tuples(st.just("resolve"), st.fixed_dictionaries({"summary": notes})),
        st.tuples(st.just("close"), st.fixed_dictionaries(
            {"note": notes, "csat": st.none() | st.integers(0, 6)})),
        st.tuples(st.just("reopen"), st.fixed_dictionaries({})),
        st.tuples(st.just("priority"), st.fixed_dictionaries({"priority": priorities()})),
        st.tuples(st.just("assign"), st.fixed_dictionaries(
            {"assignee": st.none() | st.sampled_from(["ana", "bo"])})),
    )
