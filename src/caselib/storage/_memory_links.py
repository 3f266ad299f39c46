"""The memory store's case links: :class:`MemoryLinks` over one tenant's committed links.

Its own module so the memory store gains one attribute, not another sixty lines. Writes are
staged on the unit of work and applied at its commit, as every memory write is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from caselib.cases import CaseLink, LinkKind
from caselib.timeutil import to_iso

if TYPE_CHECKING:
    from caselib.storage.memory import MemoryUnitOfWork

__all__ = ["LinkData", "MemoryLinks"]

LinkData = dict[tuple[str, str, str], CaseLink]
"""One tenant's committed links by :attr:`CaseLink.key`."""


class MemoryLinks:
    """:class:`~caselib.ports.CaseLinkRepository` for :class:`~caselib.storage.MemoryStore`."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._staged: dict[tuple[str, str, str], CaseLink | None] = {}  # None: removed

    def _view(self) -> LinkData:
        uow = self._uow
        uow._check_open()
        with uow._store._lock:
            view = dict(uow._data.links)
        for key, link in self._staged.items():
            if link is None:
                view.pop(key, None)
            else:
                view[key] = link
        return view

    def _stage(self, key: tuple[str, str, str], link: CaseLink | None) -> None:
        self._staged[key] = link

        def apply(data: object) -> None:
            links: LinkData = data.links  # type: ignore[attr-defined]
            if link is None:
                links.pop(key, None)
            else:
                links[key] = link

        self._uow._staged_ops.append(apply)

    def add(self, link: CaseLink) -> bool:
        if link.key in self._view():
            return False
        self._stage(link.key, link)
        return True

    def remove(self, source: str, kind: LinkKind, target: str) -> bool:
        key = (source, LinkKind(kind).value, target)
        if key not in self._view():
            return False
        self._stage(key, None)
        return True

    def of_case(self, case_id: str) -> list[CaseLink]:
        return self.of_cases([case_id])

    def of_cases(self, case_ids: Sequence[str]) -> list[CaseLink]:
        wanted = set(case_ids)
        found = [link for link in self._view().values()
                 if link.source in wanted or link.target in wanted]
        found.sort(key=lambda link: (to_iso(link.created_at), link.key))
        return found

    def children(self, case_id: str) -> set[str]:
        """The targets of ``case_id``'s ``parent_of`` links (the ``child_of`` filter)."""
        return {link.target for link in self._view().values()
                if link.source == case_id and link.kind is LinkKind.PARENT_OF}
