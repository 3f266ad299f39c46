"""The ports: :class:`typing.Protocol` classes a host or an adapter implements, and the values
that cross them (queries, pages, outbox messages, notifications).

Each method's docstring is its contract; :mod:`caselib.testing.conformance` checks the storage
ones. The shape:

- a :class:`Store` hands out a :class:`UnitOfWork` scoped to **one tenant**; nothing read or
  written through it can cross into another tenant;
- the unit of work groups repositories (:class:`CaseRepository`, :class:`CaseNumberAllocator`,
  :class:`Outbox`) whose writes become visible together on :meth:`UnitOfWork.commit`, or not at
  all;
- :class:`Clock`, :class:`EventSink`, :class:`Notifier` and :class:`Directory` connect caselib
  to the host's time, message bus, notification channel and people directory.

Grouped by capability, one module each:

- :mod:`caselib.ports.clock` — :class:`Clock` and the wall clock;
- :mod:`caselib.ports.queries` — :class:`CaseQuery`, :class:`CaseSummary`, the pages and the
  keyset cursors;
- :mod:`caselib.ports.cases` — the case and SLA-sweep repositories, the case-number allocator
  and the helpers that build one from another;
- :mod:`caselib.ports.kb` — the knowledge base's articles and log;
- :mod:`caselib.ports.assignment` — the round-robin and last-assigned ledger;
- :mod:`caselib.ports.automation` — the automation ledger, schedule and event cursor;
- :mod:`caselib.ports.links` — the typed links between cases;
- :mod:`caselib.ports.store` — the store, its unit of work, the outbox and the tenant check;
- :mod:`caselib.ports.delivery` — the host's event sink and notifier;
- :mod:`caselib.ports.messaging` — mailer, webhook poster and task gateway (automations);
- :mod:`caselib.ports.mail` — the mail ledger and the host's blob store (the e-mail channel).
"""

from __future__ import annotations

from caselib.ports.assignment import AssignmentLedger
from caselib.ports.automation import (
    AppliedRule,
    AutomationLedger,
    StreamEvent,
    applied_to_cases,
    automation_ledger,
    schedule_cases,
)
from caselib.ports.cases import (
    CaseNumberAllocator,
    CaseRepository,
    LockingCaseRepository,
    SlaSweepRepository,
    get_each,
    get_for_update,
    get_many_for_update,
    query_each,
    sla_parts,
)
from caselib.ports.clock import (
    Clock,
    SystemClock,
)
from caselib.ports.delivery import (
    EventSink,
    Notification,
    Notifier,
)
from caselib.ports.kb import (
    ArticleRepository,
    KbLog,
)
from caselib.ports.links import CaseLinkRepository, case_links
from caselib.ports.mail import BlobStore, MailLedger, MailRecord, mail_ledger
from caselib.ports.messaging import (
    HostTask,
    Mailer,
    OpportunityGateway,
    OutgoingMail,
    TaskGateway,
    WebhookPoster,
)
from caselib.ports.queries import (
    MAX_QUERY_LIMIT,
    MAX_TEXT_LENGTH,
    CasePage,
    CaseQuery,
    CaseSummary,
    Page,
    QueryOrder,
    SlaCasePage,
    SlaDue,
    SlaSignal,
    cursor_sort_key,
    decode_cursor,
    encode_cursor,
)
from caselib.ports.store import (
    Outbox,
    OutboxMessage,
    Store,
    UnitOfWork,
    require_tenant,
    units_cross_threads,
)

__all__ = [
    "AppliedRule",
    "ArticleRepository",
    "AssignmentLedger",
    "AutomationLedger",
    "BlobStore",
    "CaseLinkRepository",
    "CaseNumberAllocator",
    "CasePage",
    "CaseQuery",
    "CaseRepository",
    "CaseSummary",
    "Clock",
    "EventSink",
    "HostTask",
    "KbLog",
    "LockingCaseRepository",
    "MAX_QUERY_LIMIT",
    "MAX_TEXT_LENGTH",
    "MailLedger",
    "MailRecord",
    "Mailer",
    "Notification",
    "Notifier",
    "OpportunityGateway",
    "Outbox",
    "OutboxMessage",
    "OutgoingMail",
    "Page",
    "QueryOrder",
    "SlaCasePage",
    "SlaDue",
    "SlaSignal",
    "SlaSweepRepository",
    "Store",
    "StreamEvent",
    "SystemClock",
    "TaskGateway",
    "UnitOfWork",
    "WebhookPoster",
    "applied_to_cases",
    "automation_ledger",
    "case_links",
    "cursor_sort_key",
    "decode_cursor",
    "encode_cursor",
    "get_each",
    "get_for_update",
    "get_many_for_update",
    "mail_ledger",
    "query_each",
    "require_tenant",
    "schedule_cases",
    "sla_parts",
    "units_cross_threads",
]
