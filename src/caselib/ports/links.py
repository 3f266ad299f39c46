"""The case-link port: :class:`CaseLinkRepository` (``uow.links``), the typed links between
cases of one tenant, and :func:`case_links`, which finds it on a unit of work.

An optional capability of a unit of work, as the automation ledger is: a host store without
it still serves every other use case, and the link commands say what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from caselib.cases import CaseLink, LinkKind
from caselib.ports.store import UnitOfWork, optional_port

__all__ = ["CaseLinkRepository", "case_links"]


class CaseLinkRepository(Protocol):
    """Links between cases of the unit of work's tenant. Reads see its own uncommitted
    writes; writes become visible with the unit of work's commit.

    A link is one row ``(source, kind, target)``, unique in the tenant, read from both ends.
    The repository does not check that the cases exist (the desk does, in the same unit of
    work): a store may keep links in a table of their own.
    """

    def add(self, link: CaseLink) -> bool:
        """Record ``link``; ``False`` (and nothing written) if the tenant already has it."""
        ...

    def remove(self, source: str, kind: LinkKind, target: str) -> bool:
        """Delete the link ``(source, kind, target)``; ``False`` if there was none."""
        ...

    def of_case(self, case_id: str) -> list[CaseLink]:
        """Every link with ``case_id`` at either end, oldest first (ties by key)."""
        ...

    def of_cases(self, case_ids: Sequence[str]) -> list[CaseLink]:
        """Every link with one of ``case_ids`` at either end, each once, oldest first."""
        ...


def case_links(uow: UnitOfWork) -> CaseLinkRepository:
    """``uow.links``, or :class:`~caselib.errors.InvalidConfiguration` saying the store keeps
    no case links."""
    return optional_port(uow, "links", "case-link repository", "CaseLinkRepository")  # type: ignore[no-any-return]
