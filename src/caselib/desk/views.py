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
    """What a customer portal may show: no internal notes, no system activity.

    The last three fields say what the reader may do on the case now, computed by caselib
    from the tenant's :class:`~caselib.cases.ReopenPolicy`, the case and the access policy,
    so a portal offers a form exactly when the command behind it would pass (a reopen past
    the grace window is not offered and then refused). All ``False`` on a merged case:
    replies to it land on the case it was merged into, whose own view tells.
    """

    number: str
    subject: str
    status: str
    status_label: str
    status_category: StatusCategory
    created_at: datetime
    updated_at: datetime
    replies: tuple[CustomerReply, ...]
    resolution: str | None
    can_reopen: bool = False
    """Offer the reopen form: the case is resolved or closed, the workflow has a way back,
    and (for a customer) the reopen window is still open.

    .. versionadded:: 0.3
    """
    can_rate: bool = False
    """Offer the rating form: the case is resolved or closed, not rated yet, and the reader
    is its contact (``portal.rate``).

    .. versionadded:: 0.3
    """
    reply_opens_follow_up: bool = False
    """A reply now would not reopen this case but open a new, linked follow-up case
    (:meth:`~caselib.ServiceDesk.customer_reply`: the case is closed, or resolved past the
    reopen window): tell the customer before they write.

    .. versionadded:: 0.3
    """
