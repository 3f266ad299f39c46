"""The case-link contract: links kept once, read from both ends, tenant-scoped, rolled back
with their unit of work, and the ``child_of`` filter every store serves."""

from __future__ import annotations

from datetime import timedelta

from caselib.cases import CaseLink, LinkKind
from caselib.ports import CaseQuery, Store, case_links
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import T0, make_case

__all__ = ["CaseLinkContract"]


class CaseLinkContract(StoreFixtures):
    """The optional :class:`~caselib.ports.CaseLinkRepository` contract (``uow.links``).
    Not named ``Test…``."""

    def _cases(self, store: Store, n: int, tenant: str | None = None) -> list[str]:
        tenant = tenant or self.tenant
        with store.unit_of_work(tenant) as uow:
            made = [make_case(tenant, i + 1, at=T0 + timedelta(minutes=i)) for i in range(n)]
            for case in made:
                uow.cases.add(case)
            uow.commit()
        return [c.id for c in made]

    def test_link_is_read_from_both_ends(self, store: Store) -> None:
        """One row, listed on both cases, each reading its own role."""
        parent, child, other = self._cases(store, 3)
        link = CaseLink.make(parent, LinkKind.PARENT_OF, child, at=T0, by="ana")
        with store.unit_of_work(self.tenant) as uow:
            assert case_links(uow).add(link)
            assert not case_links(uow).add(link)  # unique in the tenant
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            links = case_links(uow)
            assert links.of_case(parent) == [link] == links.of_case(child)
            assert links.of_case(child)[0].role_for(child) == "child_of"
            assert links.of_case(child)[0].created_by == "ana"
            assert links.of_case(child)[0].created_at == T0
            assert links.of_case(other) == []
            assert links.of_cases([parent, child, other]) == [link]

    def test_related_has_no_direction(self, store: Store) -> None:
        """``a related b`` and ``b related a`` are one link."""
        a, b = self._cases(store, 2)
        with store.unit_of_work(self.tenant) as uow:
            assert case_links(uow).add(CaseLink.make(b, "related", a, at=T0))
            assert not case_links(uow).add(CaseLink.make(a, "related", b, at=T0))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert len(case_links(uow).of_case(a)) == 1

    def test_remove_and_rollback(self, store: Store) -> None:
        """A removed link is gone; an uncommitted add is not kept."""
        a, b, c = self._cases(store, 3)
        with store.unit_of_work(self.tenant) as uow:
            case_links(uow).add(CaseLink.make(a, LinkKind.DUPLICATE_OF, b, at=T0))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            case_links(uow).add(CaseLink.make(a, LinkKind.RELATED, c, at=T0))
            assert len(case_links(uow).of_case(a)) == 2  # own writes are seen
        with store.unit_of_work(self.tenant) as uow:
            assert len(case_links(uow).of_case(a)) == 1
            assert not case_links(uow).remove(a, LinkKind.RELATED, c)
            assert case_links(uow).remove(a, LinkKind.DUPLICATE_OF, b)
            assert case_links(uow).of_case(b) == []
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert case_links(uow).of_cases([a, b, c]) == []

    def test_tenant_scoped(self, store: Store) -> None:
        """Another tenant sees none of the links, even for the same ids."""
        a, b = self._cases(store, 2)
        with store.unit_of_work(self.tenant) as uow:
            case_links(uow).add(CaseLink.make(a, LinkKind.PARENT_OF, b, at=T0))
            uow.commit()
        with store.unit_of_work(self.other_tenant) as uow:
            assert case_links(uow).of_case(a) == []
            assert uow.cases.query(CaseQuery(child_of=a)).items == ()

    def test_child_of_filter(self, store: Store) -> None:
        """``CaseQuery(child_of=…)`` lists the parent's children, pages and counts them."""
        parent, *kids = self._cases(store, 5)
        with store.unit_of_work(self.tenant) as uow:
            for kid in kids[:3]:
                case_links(uow).add(CaseLink.make(parent, LinkKind.PARENT_OF, kid, at=T0))
            case_links(uow).add(CaseLink.make(parent, LinkKind.RELATED, kids[3], at=T0))
            # seen inside the unit of work that wrote them
            assert [s.id for s in uow.cases.query(CaseQuery(child_of=parent)).items] == kids[:3]
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            first = uow.cases.query(CaseQuery(child_of=parent, limit=2))
            assert [s.id for s in first.items] == kids[:2]
            rest = uow.cases.query(CaseQuery(child_of=parent, limit=2, after=first.next_cursor))
            assert [s.id for s in rest.items] == kids[2:3]
            assert uow.cases.count(CaseQuery(child_of=parent)) == 3
            assert uow.cases.count(CaseQuery(child_of=kids[0])) == 0
            assert sum(uow.cases.count_by_status(CaseQuery(child_of=parent)).values()) == 3
