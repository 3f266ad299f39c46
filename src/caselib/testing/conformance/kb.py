"""The knowledge base's contract: the article repository and the KB log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from caselib.errors import ArticleNotFound
from caselib.kb import ArticleStatus, Deflection, ResolvedByArticle, SuggestionShown
from caselib.ports import Store
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import T0, _article

__all__ = ["KbContract"]


class KbContract(StoreFixtures):
    """The :class:`~caselib.ports.ArticleRepository` and :class:`~caselib.ports.KbLog`
    contracts. Not named ``Test…``."""

    # -- articles -------------------------------------------------------------------------------

    def test_articles_put_get_list_remove(self, store: Store) -> None:
        """Articles round-trip, are replaced by id, listed by id and filtered by status."""
        full = _article("b-refund", body="Go to Billing > Refunds.\n\nDone.", category="Billing",
                        tags=("refund", "billing"), status="published", locale="de",
                        updated_at=T0 + timedelta(days=2))
        with store.unit_of_work(self.tenant) as uow:
            uow.articles.put(full)
            uow.articles.put(_article("a-draft", status="draft"))
            uow.articles.put(_article("c-old", status=ArticleStatus.ARCHIVED))
            assert uow.articles.get("b-refund") == full  # own writes are visible
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.articles.get("b-refund") == full
            assert [a.id for a in uow.articles.list()] == ["a-draft", "b-refund", "c-old"]
            assert uow.articles.list(ArticleStatus.DRAFT) == [_article("a-draft", status="draft")]
            assert uow.articles.list(ArticleStatus.PUBLISHED) == [full]
            replaced = _article("b-refund", title="Refunds, new way")
            uow.articles.put(replaced)
            uow.articles.remove("c-old")
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.articles.get("b-refund") == replaced
            assert [a.id for a in uow.articles.list()] == ["a-draft", "b-refund"]
            with pytest.raises(ArticleNotFound):
                uow.articles.get("c-old")
            with pytest.raises(ArticleNotFound):
                uow.articles.remove("c-old")

    def test_article_version_moves_with_committed_writes_only(self, store: Store) -> None:
        """The stamp starts at 0, moves by one per committed put or remove, ignores
        rolled-back writes and other tenants' writes."""
        with store.unit_of_work(self.tenant) as uow:
            start = uow.articles.version()
        assert start == 0
        with store.unit_of_work(self.tenant) as uow:
            uow.articles.put(_article("a1"))
            uow.rollback()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.articles.version() == start
            uow.articles.put(_article("a1"))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            after_put = uow.articles.version()
            assert after_put == start + 1
            uow.articles.put(_article("a1", title="Replaced"))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            after_replace = uow.articles.version()
            assert after_replace == after_put + 1
            uow.articles.remove("a1")
            uow.commit()
        with store.unit_of_work(self.other_tenant) as uow:
            uow.articles.put(_article("b1"))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            after_remove = uow.articles.version()
            assert after_remove == after_replace + 1
        with store.unit_of_work(self.tenant) as uow:
            assert uow.articles.version() == after_remove  # the other tenant's put did not count

    # -- kb log ---------------------------------------------------------------------------------

    def test_kb_log_ranges_are_half_open_and_oldest_first(self, store: Store) -> None:
        """``since <= at < until``; either bound may be omitted; ``case_id`` narrows to one
        case; results oldest first."""
        times = [T0 + timedelta(hours=h) for h in (2, 0, 1, 3)]
        shown = [SuggestionShown(f"c{i}", "a1", i + 1, 0.5 + i / 10, t, "ana")
                 for i, t in enumerate(times)]
        opened = [Deflection(f"c{i}", "a1", "ana", t, 1, 0.75) for i, t in enumerate(times)]
        resolved = [ResolvedByArticle(f"c{i}", "a1", t) for i, t in enumerate(times)]
        with store.unit_of_work(self.tenant) as uow:
            uow.kb_log.record_shown(shown[:2])
            uow.kb_log.record_shown(shown[2:])
            for d in opened:
                uow.kb_log.record_opened(d)
            for r in resolved:
                uow.kb_log.record_resolved(r)
            uow.commit()

        def by_time(items: Sequence[Any]) -> list[Any]:
            return sorted(items, key=lambda x: x.at)

        h1, h3 = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
        with store.unit_of_work(self.tenant) as uow:
            log = uow.kb_log
            for read, items in ((log.shown, shown), (log.opened, opened),
                                (log.resolved, resolved)):
                assert read() == by_time(items)
                assert read(since=h1) == by_time(items)[1:]
                assert read(until=h3) == by_time(items)[:3]
                assert read(since=h1, until=h3) == by_time(items)[1:3]
                assert read(since=h3, until=h3) == []
                assert read(case_id="c2") == [items[2]]
                assert read(since=h3, case_id="c2") == []
                assert read(case_id="no-such-case") == []
