"""The text-search contract (:attr:`CaseQuery.text <caselib.ports.CaseQuery.text>`): every store
finds exactly the cases :class:`~caselib.reports.SearchText` finds among the
:func:`~caselib.reports.search_terms` of their number, subject and description, combined with
the other filters, paged and counted; an edit re-indexes the case.

The property test draws texts from a small vocabulary chosen to catch tokenisers that differ
(letter case, ``ß`` against ``SS``, accents, dotted capitals, scripts without spaces, digits,
underscores and hyphens, punctuation), so a store that lets its database split or fold text
its own way fails here.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib.cases import Case
from caselib.errors import InvalidInput
from caselib.ports import CaseQuery, CaseSummary, Store
from caselib.reports import search_terms
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import AGENT, T0, _add, _all_pages, make_case

__all__ = ["CaseSearchContract", "SEARCH_VOCABULARY"]

SEARCH_VOCABULARY = (
    "printer", "Printer", "PRINTERS", "print", "jam", "jammed", "Straße", "STRASSE", "strasse",
    "café", "cafe", "CAFÉ", "naïve", "İstanbul", "istanbul", "ǅemal", "日本語", "東京",
    "0042", "42", "x_y", "foo-bar", "e-mail@example.com", "v1.2", "Ωmega", "ωmega", "ﬁle",
    "file", "invoice", "invoices", "invoicing", "🙂", "a", "A",
)
"""Words the property test writes into cases and searches for."""

_SEPARATORS = (" ", " ", ", ", ". ", "\n", "-", "/", "  ", "'")

_texts = st.lists(
    st.tuples(st.sampled_from(SEARCH_VOCABULARY), st.sampled_from(_SEPARATORS)),
    max_size=6,
).map(lambda parts: "".join(w + s for w, s in parts))

_queries = st.lists(
    st.tuples(st.sampled_from(SEARCH_VOCABULARY), st.booleans()), min_size=1, max_size=3,
).map(lambda parts: " ".join(w[:3] + "*" if prefix else w for w, prefix in parts)).filter(
    lambda q: any(ch.isalnum() for ch in q))


def _reference(cases: list[Case], query: CaseQuery) -> list[str]:
    search = query.search
    found = [CaseSummary.of(c) for c in cases
             if query.matches(CaseSummary.of(c))
             and (search is None or search.matches(search_terms(c.number, c.subject,
                                                               c.description)))]
    return [s.id for s in sorted(found, key=query.sort_key)]


class CaseSearchContract(StoreFixtures):
    """Text search, as :class:`~caselib.ports.CaseQuery` defines it, on a store."""

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.differing_executors])
    @given(
        texts=st.lists(st.tuples(_texts, _texts), min_size=1, max_size=8),
        searches=st.lists(_queries, min_size=1, max_size=4),
        assignee=st.sampled_from([None, "ana"]),
        order=st.sampled_from(["created", "-updated", "-priority"]),
    )
    def test_search_finds_what_the_reference_finds(
        self, store: Store, texts: list[tuple[str, str]], searches: list[str],
        assignee: str | None, order: Any,
    ) -> None:
        """Random subjects and descriptions, random searches (whole words and prefixes),
        alone and with another filter: the store lists, pages and counts exactly the
        reference's cases."""
        tenant = f"s{uuid.uuid4().hex[:12]}"  # a fresh tenant is an empty store
        cases = [make_case(tenant, n, at=T0 + timedelta(minutes=n), subject=subject or "x",
                           description=description,
                           assignee="ana" if n % 2 else None)
                 for n, (subject, description) in enumerate(texts, start=1)]
        _add(store, tenant, *cases)
        with store.unit_of_work(tenant) as uow:
            for text in searches:
                query = CaseQuery(text=text, order=order, limit=2,
                                  assignees=None if assignee is None else {assignee})
                expected = _reference(cases, query)
                assert [s.id for s in _all_pages(uow, query)] == expected, text
                assert uow.cases.count(query) == len(expected), text
                assert sum(uow.cases.count_by_status(query).values()) == len(expected)

    def test_the_number_is_searched(self, store: Store) -> None:
        """"CASE-0007" is the words ``case`` and ``0007``: the case numbered so has both."""
        _add(store, self.tenant, *(make_case(self.tenant, n) for n in range(1, 10)))
        with store.unit_of_work(self.tenant) as uow:
            found = uow.cases.query(CaseQuery(text="CASE-0007")).items
            assert [s.number for s in found] == ["CASE-0007"]
            assert [s.number for s in uow.cases.query(CaseQuery(text="0007")).items] == [
                "CASE-0007"]

    def test_an_edit_is_searched_at_once(self, store: Store) -> None:
        """A save that changes the subject or description re-indexes the case (in the same
        unit of work and after its commit); the old words no longer find it."""
        case = make_case(self.tenant, 1, subject="Printer jammed", description="tray two")
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
            loaded.update_fields({"subject": "Invoice wrong", "description": "VAT missing"},
                                 actor=AGENT, at=T0 + timedelta(hours=1))
            uow.cases.save(loaded, loaded.version)
            assert len(uow.cases.query(CaseQuery(text="vat")).items) == 1
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.query(CaseQuery(text="printer")).items == ()
            assert uow.cases.query(CaseQuery(text="tray")).items == ()
            assert [s.subject for s in uow.cases.query(CaseQuery(text="invoice vat")).items
                    ] == ["Invoice wrong"]

    def test_search_is_per_tenant(self, store: Store) -> None:
        """Another tenant's cases are never found, whatever they say."""
        _add(store, self.other_tenant, make_case(self.other_tenant, 1, subject="Printer"))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.query(CaseQuery(text="printer")).items == ()

    def test_a_cursor_of_another_search_is_refused(self, store: Store) -> None:
        """The search is one of the filters a cursor is bound to."""
        _add(store, self.tenant, *(make_case(self.tenant, n) for n in range(1, 5)))
        with store.unit_of_work(self.tenant) as uow:
            page = uow.cases.query(CaseQuery(text="printer", limit=1))
            assert page.next_cursor is not None
            with pytest.raises(InvalidInput) as err:
                uow.cases.query(CaseQuery(text="jammed", limit=1, after=page.next_cursor))
            assert err.value.field == "after"

