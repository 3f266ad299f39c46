"""Finding a case by the number people type (``case-0042`` for ``CASE-0042``).

Done here, once, over the exact-match lookup every store offers
(:meth:`CaseRepository.get_by_number <caselib.ports.CaseRepository.get_by_number>`), so the
memory, SQLite and PostgreSQL stores answer alike without each folding case its own way.
"""

from __future__ import annotations

from caselib.cases import Case, NumberFormat
from caselib.errors import CaseNotFound
from caselib.ports import CaseRepository

__all__ = ["find_by_number"]


def find_by_number(cases: CaseRepository, numbers: NumberFormat, number: str) -> Case:
    """The case whose stored number is one of :meth:`NumberFormat.spellings` of ``number``.

    The canonical spelling is tried first, so a well-typed number costs one lookup; the
    others only when it is not found. Raises :class:`CaseNotFound` for the canonical one.
    """
    first: CaseNotFound | None = None
    for spelling in numbers.spellings(number):
        try:
            return cases.get_by_number(spelling)
        except CaseNotFound as err:
            first = first or err
    assert first is not None  # spellings() is never empty
    raise first
