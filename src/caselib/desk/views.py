"""What a customer portal may show of a case: :class:`CustomerView` and its replies.

Separate from the use case that builds them (:func:`caselib.desk.casework.customer_view`)
because they are plain values a host renders.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from caselib.vocab import StatusCategory

__all__ = ["CustomerReply", "CustomerView"]


@attrs.frozen
class CustomerReply:
    """A public timeline entry as the customer sees it."""

    seq: int
    at: datetime
    author: str
    from_customer: bool
    body: str
    redacted: bool


@attrs.frozen
class CustomerView:
    """What a customer portal may show: no internal notes, no system activity."""

    number: str
    subject: str
    status: str
    status_label: str
    status_category: StatusCategory
    created_at: datetime
    updated_at: datetime
    replies: tuple[CustomerReply, ...]
    resolution: str | None
