"""The application layer: :class:`ServiceDesk`, the one object a host holds, and the use cases
behind it.

This is the only part of caselib that reads the clock, opens units of work, calls
repositories and publishes events.
"""

from __future__ import annotations

from caselib.desk.breach import BreachNotice, SweepReport
from caselib.desk.delivery import DeliveryChannels
from caselib.desk.listing import Board, BoardColumn
from caselib.desk.mail import MailOutcome, MailSettings
from caselib.desk.service import ServiceDesk
from caselib.desk.settings import TenantSettings, default_router
from caselib.desk.views import CustomerReply, CustomerView

__all__ = [
    "Board",
    "BoardColumn",
    "BreachNotice",
    "CustomerReply",
    "CustomerView",
    "DeliveryChannels",
    "MailOutcome",
    "MailSettings",
    "ServiceDesk",
    "SweepReport",
    "TenantSettings",
    "default_router",
]
