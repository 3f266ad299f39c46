"""Text search (CaseQuery.text): the tokeniser and query syntax, and the three stores finding
the same cases for the same searches (memory / SQLite / PostgreSQL via ``make_store``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from caselib.errors import InvalidInput
from caselib.ports import CaseQuery, Store
from caselib.reports import MAX_SEARCH_WORDS, MAX_TERM_LENGTH, SearchText, search_terms
from caselib.testing.conformance import CaseSearchContract


class TestTokens:
    def test_terms_are_folded_alphanumeric_words(self) -> None:
        assert search_terms("CASE-0042", "Printer jammed!", "Straße, café; x_y") == (
            "0042", "café", "case", "jammed", "printer", "strasse", "x", "y")

    def test_long_words_are_cut(self) -> None:
        (term,) = search_terms("", "a" * 100, "")
        assert len(term) == MAX_TERM_LENGTH

    def test_query_syntax(self) -> None:
        s = SearchText.parse("Printer INV* printer inv")
        assert (s.words, s.prefixes) == (("inv", "printer"), ())
        s = SearchText.parse("jam*  tray")
        assert (s.words, s.prefixes) == (("tray",), ("jam",))
        assert s.matches({"tray", "jammed"}) and not s.matches({"tray"})

    @pytest.mark.parametrize("text", ["", "  ", "*", "--", "_"])
    def test_a_search_without_words_is_refused(self, text: str) -> None:
        with pytest.raises(InvalidInput) as err:
            CaseQuery(text=text)
        assert err.value.field == "text"

    def test_too_many_words_are_refused(self) -> None:
        with pytest.raises(InvalidInput):
            CaseQuery(text=" ".join(f"w{n}" for n in range(MAX_SEARCH_WORDS + 1)))

    def test_the_search_enters_the_cursor_digest(self) -> None:
        assert CaseQuery(text="a").filter_digest() != CaseQuery(text="b").filter_digest()

    def test_sql_forms_keep_the_terms_verbatim(self) -> None:
        s = SearchText.parse("Straße caf*")
        assert s.fts5() == '"strasse" "caf"*'
        assert s.tsquery() == "'strasse' & 'caf':*"


class TestEveryStore(CaseSearchContract):
    """The search contract on each of the three stores: each finds exactly the reference's
    cases for the same random texts and searches, so the three agree."""

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Store:
        return make_store()


class TestSqliteMembershipPlan(CaseSearchContract):
    """The same contract on SQLite with every search past the drive limit, so each query
    tests membership on the rows its other filters' index finds (the plan a common word
    gets): the same cases either way."""

    @pytest.fixture
    def store(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
        from caselib.storage._sql import cases
        from caselib.storage.sqlite import SqliteStore

        monkeypatch.setattr(cases, "_DRIVE_LIMIT", 0)
        store = SqliteStore(tmp_path / "scan.db")
        yield store
        store.close()
