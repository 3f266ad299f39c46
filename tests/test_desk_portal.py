"""Deflection before a case exists: portal suggestions, openings and self-service records."""

from __future__ import annotations

from datetime import timedelta

import pytest

from actors import EDITOR, READER
from caselib import Actor, InvalidInput, MemoryStore, ServiceDesk
from caselib.kb import VISIT_PREFIX, Article
from caselib.testing import FrozenClock

ARTICLES = [
    ("kb-vpn", "VPN disconnects every hour", "Upgrade the VPN client to 3.3 to fix keep-alive."),
    ("kb-vat", "Invoice shows the wrong VAT rate", "Check the billing country and VAT id."),
    ("kb-pass", "Reset your password", "Use the reset link; it expires after one hour."),
]
ADMIN = Actor.agent("ops", "admin")


@pytest.fixture
def portal(clock: FrozenClock, agent: Actor) -> ServiceDesk:
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
    for aid, title, body in ARTICLES:
        desk.put_article(Article(id=aid, title=title, body=body, updated_at=clock.now()),
                         actor=EDITOR)
    return desk


class TestSuggestForText:
    """The portal form gets the same ranking as a case, logged under the visit."""

    def test_ranks_and_logs_under_the_visit(self, portal: ServiceDesk) -> None:
        visitor = Actor.customer("c1")
        hits = portal.suggest_for_text("My VPN keeps dropping", "every hour or so",
                                       actor=visitor, visit="v1")
        assert hits[0].article_id == "kb-vpn"
        with portal.store.unit_of_work("acme") as uow:
            logged = uow.kb_log.shown()
        assert {s.case_id for s in logged} == {VISIT_PREFIX + "v1"}
        assert [s.article_id for s in logged] == [h.article_id for h in hits]
        assert portal.deflection_report(actor=READER).totals.visits == 1

    def test_preview_logs_nothing(self, portal: ServiceDesk) -> None:
        portal.suggest_for_text("VPN drops", actor=Actor.customer("c1"), visit="v1", record=False)
        assert portal.deflection_report(actor=READER).totals.shown == 0

    @pytest.mark.parametrize("visit", ["", "  ", "x" * 151])
    def test_bad_visit_is_refused_and_nothing_logged(self, portal: ServiceDesk,
                                                     visit: str) -> None:
        with pytest.raises(InvalidInput):
            portal.suggest_for_text("VPN drops", actor=Actor.customer("c1"), visit=visit)
        assert portal.deflection_report(actor=READER).totals.shown == 0


class TestSelfService:
    """An opening with no case filed within the window becomes a self-service record."""

    def _visit(self, portal: ServiceDesk, visitor: Actor, visit: str) -> None:
        portal.suggest_for_text("Forgot my password", actor=visitor, visit=visit)
        portal.open_portal_article(visit, "kb-pass", actor=visitor)

    def test_no_case_filed_is_self_service_once(self, portal: ServiceDesk,
                                                 clock: FrozenClock) -> None:
        visitor = Actor.customer("c1")
        self._visit(portal, visitor, "v1")
        clock.advance(hours=23)
        assert portal.record_self_service(actor=ADMIN) == 0  # the window is still open
        clock.advance(hours=2)
        assert portal.record_self_service(actor=ADMIN) == 1
        assert portal.record_self_service(actor=ADMIN) == 0  # idempotent
        totals = portal.deflection_report(actor=READER).totals
        assert (totals.visits, totals.self_service, totals.deflection_rate) == (1, 1, 1.0)
        report = portal.deflection_report(actor=READER)
        credited = {a.article_id: a.resolved for a in report.articles}
        assert credited["kb-pass"] == 1

    def test_a_case_filed_in_the_window_is_no_self_service(
        self, portal: ServiceDesk, clock: FrozenClock
    ) -> None:
        visitor, other = Actor.customer("c1"), Actor.customer("c2")
        self._visit(portal, visitor, "v1")
        self._visit(portal, other, "v2")
        clock.advance(hours=3)
        portal.create_case(subject="Still cannot log in", actor=visitor)
        clock.advance(hours=30)
        assert portal.record_self_service(actor=ADMIN) == 1  # only the other visitor's
        totals = portal.deflection_report(actor=READER).totals
        assert (totals.visits, totals.self_service) == (2, 1)

    def test_report_counts_both_paths(self, portal: ServiceDesk, clock: FrozenClock,
                                      agent: Actor) -> None:
        visitor = Actor.customer("c1")
        self._visit(portal, visitor, "v1")
        case = portal.create_case(subject="Wrong VAT on invoice", actor=Actor.customer("c9"))
        portal.suggest_articles(case.id, actor=agent)  # shown, never opened: not deflected
        clock.advance(days=2)
        portal.record_self_service(actor=ADMIN)
        totals = portal.deflection_report(actor=READER).totals
        assert (totals.cases, totals.deflected, totals.visits, totals.self_service) == (1, 0, 1, 1)
        assert totals.deflection_rate == pytest.approx(0.5)

    def test_bad_window_is_refused(self, portal: ServiceDesk) -> None:
        with pytest.raises(InvalidInput):
            portal.record_self_service(actor=ADMIN, within=timedelta(0))
