"""The ports: :class:`typing.Protocol` classes a host or an adapter implements, and the values
that cross them (queries, pages, outbox messages, notifications).

Each method's docstring is its contract; :mod:`caselib.testing.conformance` checks the storage
ones. Grouped by capability: the clock, case queries, the case and SLA repositories, the
knowledge base, assignment, the unit of work and the store, delivery.
"""

from __future__ import annotations

from caselib.ports.core import (
    MAX_QUERY_LIMIT,
    ArticleRepository,
    AssignmentLedger,
    CaseNumberAllocator,
    CasePage,
    CaseQuery,
    CaseRepository,
    CaseSummary,
    Clock,
    EventSink,
    KbLog,
    Notification,
    Notifier,
    Outbox,
    OutboxMessage,
    Page,
    QueryOrder,
    SlaCasePage,
    SlaSweepRepository,
    Store,
    SystemClock,
    UnitOfWork,
    cursor_sort_key,
    decode_cursor,
    encode_cursor,
    get_each,
    query_each,
    require_tenant,
    sla_parts,
    units_cross_threads,
)

__all__ = [
    "cursor_sort_key",
    "decode_cursor",
    "encode_cursor",
    "ArticleRepository",
    "AssignmentLedger",
    "CaseNumberAllocator",
    "CasePage",
    "CaseQuery",
    "CaseRepository",
    "CaseSummary",
    "Clock",
    "EventSink",
    "KbLog",
    "MAX_QUERY_LIMIT",
    "Notification",
    "Notifier",
    "Outbox",
    "OutboxMessage",
    "Page",
    "QueryOrder",
    "SlaCasePage",
    "SlaSweepRepository",
    "Store",
    "SystemClock",
    "UnitOfWork",
    "get_each",
    "query_each",
    "require_tenant",
    "sla_parts",
    "units_cross_threads",
]
