"""The application layer: :class:`ServiceDesk`, the one object a host holds, and the use cases
behind it.

This is the only part of caselib that reads the clock, opens units of work, calls
repositories and publishes events.
"""

from __future__ import annotations

from caselib.desk.core import (
    BreachNotice,
    CustomerReply,
    CustomerView,
    ServiceDesk,
    SweepReport,
    TenantSettings,
    default_router,
)

__all__ = [
    "BreachNotice",
    "CustomerReply",
    "CustomerView",
    "ServiceDesk",
    "SweepReport",
    "TenantSettings",
    "default_router",
]
