"""Knowledge-base suggestions and deflections through ServiceDesk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from actors import EDITOR, READER
from caselib import Actor, ArticleNotFound, MemoryStore, PermissionDenied, ServiceDesk
from caselib.kb import Article, ArticleStatus
from caselib.ports import Store
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock

ARTICLES = [
    ("kb-vpn", "VPN disconnects every hour", "Upgrade the VPN client to 3.3 to fix keep-alive."),
    ("kb-vat", "Invoice shows the wrong VAT rate", "Check the billing country and VAT id."),
    ("kb-pass", "Reset your password", "Use the reset link; it expires after one hour."),
]


@pytest.fixture
def kb_desk(clock: FrozenClock, agent: Actor) -> ServiceDesk:
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
    for aid, title, body in ARTICLES:
        desk.put_article(Article(id=aid, title=title, body=body, updated_at=clock.now()),
                         actor=EDITOR)
    return desk


class TestSuggestions:
    """Suggestions come from published articles and customer-visible text only."""

    def test_best_article_first_and_logged(self, kb_desk: ServiceDesk, agent: Actor) -> None:
        case = kb_desk.create_case(subject="VPN keeps disconnecting", actor=agent)
        hits = kb_desk.suggest_articles(case.id, actor=agent, limit=2)
        assert hits[0].article_id == "kb-vpn" and hits[0].rank == 1
        report = kb_desk.deflection_report(actor=READER)
        assert report.totals.shown == len(hits)

    def test_internal_notes_never_feed_the_query(self, kb_desk: ServiceDesk,
                                                 agent: Actor) -> None:
        case = kb_desk.create_case(subject="Question", actor=agent)
        kb_desk.add_comment(case.id, "invoice VAT wrong rate billing", actor=agent)
        assert kb_desk.suggest_articles(case.id, actor=agent) == []
        kb_desk.add_comment(case.id, "Is my invoice VAT wrong?", actor=agent, audience="public")
        assert kb_desk.suggest_articles(case.id, actor=agent)[0].article_id == "kb-vat"

    def test_archived_never_suggested(self, kb_desk: ServiceDesk, agent: Actor,
                                      clock: FrozenClock) -> None:
        kb_desk.put_article(Article(id="kb-vpn", title="VPN disconnects every hour",
                                    status=ArticleStatus.ARCHIVED, updated_at=clock.now()),
                            actor=EDITOR)
        case = kb_desk.create_case(subject="VPN disconnects", actor=agent)
        assert "kb-vpn" not in [h.article_id for h in kb_desk.suggest_articles(case.id,
                                                                               actor=agent)]

    def test_index_rebuilt_from_store(self, kb_desk: ServiceDesk, agent: Actor) -> None:
        """Another desk over the same store builds its index from the article store."""
        other = ServiceDesk(kb_desk.store, tenant="acme", clock=kb_desk.clock)
        assert len(other.kb_index()) == 3
        kb_desk.remove_article("kb-pass", actor=EDITOR)
        assert len(kb_desk.kb_index()) == 2 and len(other.reload_kb()) == 2
        with pytest.raises(ArticleNotFound):
            kb_desk.remove_article("kb-pass", actor=EDITOR)

    def test_only_admins_edit(self, kb_desk: ServiceDesk, clock: FrozenClock,
                              agent: Actor) -> None:
        for actor in (Actor.customer("c"), agent):  # editing the KB needs service.admin
            with pytest.raises(PermissionDenied, match=r"service\.admin"):
                kb_desk.put_article(Article(id="x", title="x", updated_at=clock.now()),
                                    actor=actor)
            with pytest.raises(PermissionDenied, match=r"service\.admin"):
                kb_desk.remove_article("kb-vpn", actor=actor)
        assert "kb-vpn" in kb_desk.kb_index()


class TestDeflection:
    """Opening a suggestion is a deflection; resolution without agent replies counts."""

    def test_deflection_rolls_up(self, kb_desk: ServiceDesk, agent: Actor,
                                 clock: FrozenClock) -> None:
        customer = Actor.customer("c1")
        deflected = kb_desk.create_case(subject="Reset password link", actor=customer)
        worked = kb_desk.create_case(subject="Wrong VAT on invoice", actor=customer)
        for case in (deflected, worked):
            kb_desk.suggest_articles(case.id, actor=customer)
        clock.advance(minutes=5)
        opened = kb_desk.open_article(deflected.id, "kb-pass", actor=customer)
        assert opened.rank == 1 and opened.score > 0
        kb_desk.open_article(worked.id, "kb-vat", actor=customer)
        clock.advance(minutes=5)
        for case in (deflected, worked):
            for status in ("open", "in_progress"):
                kb_desk.transition(case.id, status, actor=agent)
        kb_desk.add_comment(worked.id, "Fixed your VAT id", actor=agent, audience="public")
        for case in (deflected, worked):
            kb_desk.transition(case.id, "pending_customer", actor=agent)
            kb_desk.resolve(case.id, "done", actor=agent)
        kb_desk.mark_resolved_by_article(deflected.id, "kb-pass", actor=agent)
        report = kb_desk.deflection_report(since=clock.now() - timedelta(days=1), actor=READER)
        assert report.totals.opened == 2
        assert report.totals.deflection_rate == pytest.approx(0.5)


class TestSharedStore:
    """Desks in several processes share one article store; each index catches up on its own."""

    def test_put_and_remove_elsewhere_are_seen_on_next_search(
        self, kb_desk: ServiceDesk, agent: Actor, clock: FrozenClock
    ) -> None:
        other = ServiceDesk(kb_desk.store, tenant="acme", clock=clock)
        case = other.create_case(subject="Printer jams on page two", actor=agent)
        assert other.suggest_articles(case.id, actor=agent) == []
        kb_desk.put_article(Article(id="kb-jam", title="Printer jams", body="Open tray two.",
                                    updated_at=clock.now()), actor=EDITOR)
        assert [h.article_id for h in other.suggest_articles(case.id, actor=agent)] == ["kb-jam"]
        kb_desk.remove_article("kb-jam", actor=EDITOR)
        assert other.suggest_articles(case.id, actor=agent) == []

    def test_unchanged_store_keeps_the_same_index(self, kb_desk: ServiceDesk,
                                                  agent: Actor) -> None:
        index = kb_desk.kb_index()
        kb_desk.put_article(Article(id="kb-new", title="New", updated_at=kb_desk.clock.now()),
                            actor=EDITOR)
        assert kb_desk.kb_index() is index and "kb-new" in index
        assert kb_desk._ctx.kb_version == 4  # own edits do not force a catch-up read

    def test_sqlite_processes_share_articles(self, tmp_path: Path, clock: FrozenClock,
                                             agent: Actor) -> None:
        """Two stores over one file stand for two processes."""
        one = ServiceDesk(SqliteStore(tmp_path / "kb.db"), tenant="acme", clock=clock)
        two = ServiceDesk(SqliteStore(tmp_path / "kb.db"), tenant="acme", clock=clock)
        try:
            assert len(two.kb_index()) == 0
            one.put_article(Article(id="kb-1", title="VPN drops", updated_at=clock.now()),
                            actor=EDITOR)
            assert len(two.kb_index()) == 1
            one.put_article(Article(id="kb-1", title="VPN drops hourly", updated_at=clock.now()),
                            actor=EDITOR)
            assert two.kb_index().get("kb-1").title == "VPN drops hourly"
        finally:
            one.store.close()
            two.store.close()


class TestPreviewAndGet:
    """Previews do not count as shown; get_article hides drafts from customers."""

    def test_record_false_writes_no_log(self, kb_desk: ServiceDesk, agent: Actor) -> None:
        case = kb_desk.create_case(subject="VPN keeps disconnecting", actor=agent)
        assert kb_desk.suggest_articles(case.id, actor=agent, record=False)
        assert kb_desk.deflection_report(actor=READER).totals.shown == 0

    def test_get_article(self, kb_desk: ServiceDesk, agent: Actor, clock: FrozenClock) -> None:
        assert kb_desk.get_article("kb-vpn", actor=Actor.customer("c")).id == "kb-vpn"
        kb_desk.put_article(Article(id="kb-draft", title="Soon", status="draft",
                                    updated_at=clock.now()), actor=EDITOR)
        assert kb_desk.get_article("kb-draft", actor=agent).status is ArticleStatus.DRAFT
        with pytest.raises(ArticleNotFound):
            kb_desk.get_article("kb-draft", actor=Actor.customer("c"))
        with pytest.raises(ArticleNotFound):
            kb_desk.get_article("nope", actor=agent)


class TestReloads:
    """A page that suggests on every view: reloads log nothing new, so the funnel holds."""

    def test_reloading_does_not_inflate_the_deflection_funnel(
            self, make_store: Callable[[], Store], agent: Actor) -> None:
        """Shown at once, reloaded 8 days later: the later week and scorecard count nothing."""
        monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
        clock = FrozenClock(monday)
        desk = ServiceDesk(make_store(), tenant="acme", clock=clock)
        for aid, title, body in ARTICLES:
            desk.put_article(Article(id=aid, title=title, body=body, updated_at=monday),
                             actor=EDITOR)
        case = desk.create_case(subject="VPN keeps disconnecting, VAT on invoice", actor=agent)
        first = desk.suggest_articles(case.id, actor=agent, limit=2)
        assert len(first) == 2
        clock.advance(days=8)
        for _ in range(3):
            assert desk.suggest_articles(case.id, actor=agent, limit=2) == first
        week2 = datetime(2026, 3, 9, tzinfo=UTC)
        later = desk.deflection_report(actor=READER, since=week2)
        assert (later.totals.shown, later.totals.cases) == (0, 0)
        whole = desk.deflection_report(actor=READER)
        assert (whole.totals.shown, whole.totals.cases) == (2, 1)
        assert [p.start for p in whole.periods] == [monday.replace(hour=0)]
        card = desk.scorecard(start=week2, end=week2 + timedelta(days=7), actor=READER)
        assert card.deflection.suggested == 0
        with desk.store.unit_of_work("acme") as uow:
            assert len(uow.kb_log.shown(case_id=case.id)) == 2  # no line per reload

    def test_a_newly_suggested_article_is_logged_once(
            self, make_store: Callable[[], Store], agent: Actor) -> None:
        """The set shown changes: only the new (case, article) pair is logged."""
        clock = FrozenClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
        desk = ServiceDesk(make_store(), tenant="acme", clock=clock)
        aid, title, body = ARTICLES[0]
        desk.put_article(Article(id=aid, title=title, body=body, updated_at=clock.now()),
                         actor=EDITOR)
        case = desk.create_case(subject="VPN disconnects every hour", actor=agent)
        desk.suggest_articles(case.id, actor=agent)
        desk.put_article(Article(id="kb-vpn2", title="VPN disconnects on Wi-Fi",
                                 body="Turn off power saving.", updated_at=clock.now()),
                         actor=EDITOR)
        clock.advance(hours=1)
        shown = {h.article_id for h in desk.suggest_articles(case.id, actor=agent)}
        desk.suggest_articles(case.id, actor=agent)
        assert shown == {"kb-vpn", "kb-vpn2"}
        with desk.store.unit_of_work("acme") as uow:
            log = uow.kb_log.shown(case_id=case.id)
        assert sorted((s.article_id, s.at.hour) for s in log) == [("kb-vpn", 9),
                                                                  ("kb-vpn2", 10)]
