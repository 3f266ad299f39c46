"""What SLA code reads from a case: the :class:`SlaSubject` protocol and the timeline entry
kinds its clocks need (:data:`SLA_ENTRY_KINDS`).

Separate so that policy selection (:mod:`caselib.sla.policy`), the clocks
(:mod:`caselib.sla.clock`) and the breach sweep's working copy (:mod:`caselib.sla.breach`)
can all name it without importing one another: a full :class:`~caselib.cases.Case` and an
:class:`~caselib.sla.SlaCase` both fit it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from caselib.cases import CustomValue, Links, SlaTarget, TimelineEntry
from caselib.vocab import Priority, Source, StatusCategory

__all__ = [
    "SLA_ENTRY_KINDS",
    "SlaSubject",
]


# --- the SLA part of a case ---------------------------------------------------------------------

SLA_ENTRY_KINDS: Final = frozenset({"status_changed", "reply"})
"""The timeline entry kinds SLA clocks read: status changes (pauses, the resolved stretch) and
replies (first response, next-reply cycles). :class:`SlaCase` keeps only these."""


class SlaSubject(Protocol):
    """What :func:`evaluate` and policy selection read from a case.

    :class:`~caselib.cases.Case` has all of it; so does :class:`SlaCase`, the breach sweep's
    working copy. ``timeline`` needs only the entries of :data:`SLA_ENTRY_KINDS`, in order.
    """

    @property
    def status_category(self) -> StatusCategory: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def sla_started_at(self) -> datetime | None: ...
    @property
    def sla_policy(self) -> str | None: ...
    @property
    def sla_targets(self) -> Sequence[SlaTarget]: ...
    @property
    def timeline(self) -> Sequence[TimelineEntry]: ...
    @property
    def memo(self) -> dict[str, Any]: ...
    @property
    def category(self) -> str | None: ...
    @property
    def subcategory(self) -> str | None: ...
    @property
    def case_type(self) -> str | None: ...
    @property
    def source(self) -> Source: ...
    @property
    def tags(self) -> frozenset[str]: ...
    @property
    def custom(self) -> Mapping[str, CustomValue]: ...
    @property
    def links(self) -> Links: ...
