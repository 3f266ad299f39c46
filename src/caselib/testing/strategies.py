"""Hypothesis strategies for caselib values, for the host's own property tests.

Needs ``hypothesis`` (it is in the ``dev`` extra, not a runtime dependency)::

    from hypothesis import given
    from caselib.testing import strategies as cst

    @given(cst.workflows())
    def test_my_board_accepts_any_workflow(workflow): ...
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from caselib.cases import (
    SUBJECT_MAX_LENGTH,
    Actor,
    Attachment,
    Case,
    CompiledWorkflow,
    Pause,
    SlaTarget,
    Status,
    Transition,
    Workflow,
)
from caselib.errors import CaselibError
from caselib.kb import Article, ArticleStatus
from caselib.ports import MAX_QUERY_LIMIT, CaseQuery
from caselib.vocab import (
    DEFAULT_CASE_TYPES,
    DEFAULT_CATEGORIES,
    DEFAULT_REASON_CODES,
    ActorKind,
    Audience,
    Priority,
    Severity,
    Source,
    StatusCategory,
)

__all__ = [
    "actors",
    "articles",
    "aware_datetimes",
    "case_fields",
    "case_queries",
    "cases",
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


def actors(detailed: bool = False) -> st.SearchStrategy[Actor]:
    """Agents and customers; with ``detailed``, also system actors, roles and display names
    (every field an :class:`Actor` can carry, for round-trip tests)."""
    ids = st.sampled_from(["ana", "bo", "chen", "dee"])
    plain = st.one_of(ids.map(Actor.agent), ids.map(lambda i: Actor.customer(f"c-{i}")))
    if not detailed:
        return plain
    return st.builds(
        Actor,
        st.one_of(ids, st.text(_text_alphabet, min_size=1, max_size=40).filter(str.strip)),
        st.sampled_from(list(ActorKind)),
        st.frozensets(st.sampled_from(["admin", "support", "manager", "owner", "lead"]),
                      max_size=3),
        st.none() | st.text(_text_alphabet, min_size=1, max_size=40),
    )


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


def _instants(start: datetime = datetime(2020, 1, 1, tzinfo=UTC)) -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes with microseconds (what an ISO round trip must keep exactly)."""
    return st.integers(0, 15 * 365 * 86_400 * 10**6).map(
        lambda us: start + timedelta(microseconds=us))


_DEFAULT: list[CompiledWorkflow] = []


def _board() -> CompiledWorkflow:
    """A board where cards move freely (so a few random steps reach resolved and closed)."""
    if not _DEFAULT:
        _DEFAULT.append(Workflow.kanban([("Closed", "closed")]).compile())
    return _DEFAULT[0]


_WORKERS = st.sampled_from([Actor.agent("ana"), Actor.agent("bo", "lead", name="Bo")])
_STEPS = ("comment", "comment", "redact", "move", "move", "move", "assign", "priority",
          "fields", "attach", "rate", "rate", "activity")


@st.composite
def cases(draw: st.DrawFn, max_steps: int = 10) -> Case:
    """Saved-looking cases with a history: opened from :func:`case_fields`, then worked by
    random commands (comments of both audiences, redactions, status changes on a kanban
    board, assignment, priority, field edits, evidence, CSAT, activity entries)
    and given random SLA state. Refused commands are skipped (they change nothing)."""
    wf = _board()
    at = draw(_instants())
    opener = draw(actors(detailed=True))
    case = Case.open(
        id=draw(st.text("0123456789abcdef", min_size=8, max_size=32)),
        tenant=draw(st.sampled_from(["acme", "globex"])),
        number=f"CASE-{draw(st.integers(1, 99_999)):04d}",
        status=wf.initial, status_category=wf.category(wf.initial), workflow=wf.name,
        actor=opener, at=at, **draw(case_fields()))
    for _ in range(draw(st.integers(0, max_steps))):
        at += timedelta(microseconds=draw(st.integers(1, 3 * 86_400 * 10**6)))
        actor = draw(st.one_of(_WORKERS, actors(detailed=True)))  # refusals stay rarer
        step = draw(st.sampled_from(_STEPS))
        with contextlib.suppress(CaselibError):  # a refused command changed nothing
            _step(draw, case, wf, step, actor, at)
    case.sla_policy = draw(st.none() | st.sampled_from(["default", "vip"]))
    case.sla_started_at = draw(st.none() | _instants())
    case.pauses = draw(st.lists(st.builds(
        Pause, _instants(), st.none() | _instants(), st.sampled_from(["waiting", "resolved"])),
        max_size=3))
    case.sla_targets = draw(st.lists(st.builds(
        SlaTarget, st.sampled_from(["first_response", "resolution", "next_reply"]),
        st.none() | _instants(),
        st.sampled_from(["running", "paused", "warning", "breached", "met"]),
        st.none() | _instants(), st.none() | _instants(), st.none() | _instants(),
        st.none() | st.floats(0, 1e7, allow_nan=False)), max_size=3))
    case.mark_saved(draw(st.integers(1, 10_000)))
    return case


def _step(draw: st.DrawFn, case: Case, wf: CompiledWorkflow, step: str, actor: Actor,
          at: datetime) -> None:
    words = st.text(_text_alphabet, min_size=1, max_size=60).filter(lambda s: bool(s.strip()))
    if step == "comment":
        case.add_comment(draw(words), audience=draw(st.sampled_from(["internal", "public"])),
                         actor=actor, at=at)
    elif step == "redact":
        comments = [e.seq for e in case.timeline if e.is_comment and e.redaction is None]
        seq = draw(st.sampled_from(comments)) if comments else len(case.timeline)
        case.redact_comment(seq, reason=draw(words), actor=actor, at=at)
    elif step == "move":
        targets = wf.allowed_transitions(case.status)
        if targets:
            wf.apply(case, draw(st.sampled_from(targets)), actor=actor, at=at,
                     note=draw(st.one_of(words, words, st.none())),
                     resolution_code=draw(st.none() | st.sampled_from(["fixed", "config"])))
    elif step == "assign":
        case.assign(assignee=draw(st.none() | st.sampled_from(["ana", "bo"])),
                    team=draw(st.none() | st.sampled_from(["support", "finance"])),
                    actor=actor, at=at, manual=draw(st.booleans()))
    elif step == "priority":
        case.change_priority(draw(priorities()), actor=actor, at=at,
                             reason=draw(st.none() | words))
    elif step == "fields":
        fields = draw(case_fields())
        keys = draw(st.sets(st.sampled_from(
            ["subject", "description", "severity", "case_type", "tags", "custom", "source"]),
            max_size=3))
        case.update_fields({k: fields[k] for k in keys}, actor=actor, at=at)
    elif step == "attach":
        case.add_attachment(Attachment(
            draw(words), "image/png", draw(st.integers(0, 10**9)),
            draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
            f"blob/{len(case.attachments)}-{draw(st.integers(0, 999))}", at, actor.id),
            actor=actor)
    elif step == "rate":
        if case.is_active:
            wf.apply(case, "resolved", actor=actor, at=at, note=draw(words))
        case.record_csat(draw(st.integers(1, 5)), actor=actor, at=at,
                         comment=draw(st.none() | words))
    else:
        case.record_activity(actor, at, "routed", draw(st.text(_text_alphabet, max_size=30)),
                             decision={"team": "support", "steps": [
                                 {"kind": "rule", "matched_on": [["tier", "gold"]]}]})


@st.composite
def articles(draw: st.DrawFn) -> Article:
    """Valid knowledge-base articles of every status, with categories, tags and locales."""
    words = st.text(_text_alphabet, min_size=1, max_size=80).filter(lambda s: bool(s.strip()))
    return Article(
        id=draw(st.text(_text_alphabet, min_size=1, max_size=40).filter(lambda s: bool(
            s.strip()))),
        title=draw(words),
        body=draw(st.text(_text_alphabet, max_size=400)),
        category=draw(st.none() | st.sampled_from(sorted(DEFAULT_CATEGORIES))),
        tags=draw(st.lists(words.map(str.strip), max_size=4, unique=True)),
        status=draw(st.sampled_from(list(ArticleStatus))),
        locale=draw(st.sampled_from(["en", "de", "pt-BR"])),
        updated_at=draw(_instants()),
    )


@st.composite
def case_queries(draw: st.DrawFn) -> CaseQuery:
    """Valid :class:`CaseQuery` values: any mix of filters, every order, limits 1–1000."""
    names = st.text(_text_alphabet, min_size=1, max_size=20).filter(lambda s: bool(s.strip()))

    def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.none() | st.frozensets(values, max_size=4)

    return CaseQuery(
        statuses=draw(maybe(st.sampled_from(["new", "open", "in_progress", "resolved"]))),
        status_categories=draw(maybe(st.sampled_from(list(StatusCategory)))),
        priorities=draw(maybe(st.sampled_from(list(Priority)))),
        assignees=draw(maybe(names)),
        teams=draw(maybe(names)),
        unassigned=draw(st.none() | st.booleans()),
        tags=draw(maybe(names)),
        breached=draw(st.none() | st.booleans()),
        due_before=draw(st.none() | _instants()),
        created_from=draw(st.none() | _instants()),
        created_before=draw(st.none() | _instants()),
        unassigned_teams=draw(maybe(names)),
        contacts=draw(maybe(names)),
        accounts=draw(maybe(names)),
        categories=draw(maybe(st.sampled_from(list(DEFAULT_CATEGORIES)) | names)),
        resolved_from=draw(st.none() | _instants()),
        resolved_before=draw(st.none() | _instants()),
        ids=draw(maybe(names)),
        text=draw(st.none() | names.filter(lambda s: any(c.isalnum() for c in s))),
        order=draw(st.sampled_from(["created", "-created", "updated", "-updated", "due",
                                    "-priority"])),
        limit=draw(st.integers(1, MAX_QUERY_LIMIT)),
        after=draw(st.none() | st.text("ABCDEFabcdef0123456789-_", min_size=1, max_size=40)),
    )
