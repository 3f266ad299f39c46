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
    """A public timeline entry as the customer sees it.

    ``author`` is the writer's id (a login); show :attr:`shown_as`, which prefers the display
    name the writer had when they wrote (``author_name``, from :attr:`Actor.name
    <caselib.Actor.name>`).
    """

    seq: int
    at: datetime
    author: str
    from_customer: bool
    body: str
    redacted: bool
    author_name: str | None = None

    @property
    def shown_as(self) -> str:
        """The author's display name, or their id when they gave none."""
        return self.author_name or self.author


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
