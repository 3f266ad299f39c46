"""The shipped hypothesis strategies produce what they promise, and drive a desk safely."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from actors import READER
from caselib import Actor, Article, Case, CaselibError, CaseQuery, MemoryStore, ServiceDesk
from caselib.testing import FrozenClock
from caselib.testing.strategies import (
    actors,
    articles,
    case_fields,
    case_queries,
    cases,
    commands,
    workflows,
)

AGENT = Actor.agent("ana")


class TestStrategies:
    """Every generated value is accepted by caselib."""

    @given(case_fields())
    def test_case_fields_always_create(self, fields: dict[str, Any]) -> None:
        """case_fields() are valid create_case arguments."""
        desk = ServiceDesk(MemoryStore(), clock=FrozenClock())
        case = desk.create_case(actor=AGENT, **fields)
        assert case.version == 1 and desk.get_case(case.id, actor=READER).subject == case.subject

    @given(workflows())
    def test_workflows_compile(self, workflow: Any) -> None:
        """workflows() always compile and can start a case."""
        compiled = workflow.compile()
        assert compiled.initial in compiled.statuses

    @given(st.lists(st.tuples(commands(), actors()), max_size=25))
    def test_commands_only_raise_caselib_errors(self, steps: list[Any]) -> None:
        """Random commands either apply or raise a CaselibError; versions only move up."""
        clock = FrozenClock()
        desk = ServiceDesk(MemoryStore(), clock=clock)
        case = desk.create_case(subject="x", actor=AGENT)
        version = case.version
        for (name, args), actor in steps:
            clock.advance(minutes=1)
            try:
                if name == "comment":
                    desk.add_comment(case.id, args["body"], actor=actor,
                                     audience=args["audience"])
                elif name == "transition":
                    desk.transition(case.id, args["to"], actor=actor, note=args["note"])
                elif name == "resolve":
                    desk.resolve(case.id, args["summary"] or "", actor=actor)
                elif name == "close":
                    desk.close(case.id, args["note"] or "", actor=actor, csat=args["csat"])
                elif name == "reopen":
                    desk.reopen(case.id, actor=actor)
                elif name == "priority":
                    desk.change_priority(case.id, args["priority"], actor=actor)
                elif name == "assign":
                    desk.assign(case.id, assignee=args["assignee"], actor=actor)
            except CaselibError:
                pass
            now = desk.get_case(case.id, actor=READER).version
            assert now >= version
            version = now


class TestValueStrategies:
    """cases(), articles() and case_queries() give values the rest of caselib accepts."""

    @given(cases())
    def test_cases_survive_the_storage_codec(self, case: Case) -> None:
        """A generated case is one a store can write and read back (numbered timeline,
        valid fields), and it has no pending events, like a loaded case."""
        from caselib.storage.codec import case_from_document, case_to_document

        assert [e.seq for e in case.timeline] == list(range(1, len(case.timeline) + 1))
        assert case.pending_events == ()
        back = case_from_document(case_to_document(case), case.timeline)
        assert case_to_document(back) == case_to_document(case)

    @given(articles(), case_queries())
    def test_articles_and_queries_are_valid(self, article: Article, query: CaseQuery) -> None:
        """They built without raising; a query pages within the store's limit."""
        assert article.id.strip() and 1 <= query.limit <= 1000
