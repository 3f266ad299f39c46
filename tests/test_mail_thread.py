"""``ServiceDesk.mail_thread``: a case's e-mails in and out from the mail ledger, for agents
(every store)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from caselib import Actor, MailSettings, PermissionDenied, ServiceDesk, TenantSettings
from caselib.access import AccessPolicy
from caselib.errors import CaseNotFound
from caselib.ports import Store
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
ANA = Actor.agent("ana", "support_lead", teams=["support"])

RAW = (b"From: Jane <jane@example.com>\r\nTo: help@support.test\r\n"
       b"Subject: Printer jams\r\nMessage-ID: <m1@example.com>\r\n"
       b"Date: Mon, 02 Mar 2026 09:00:00 +0000\r\n\r\nIt jams on page 2.\r\n")


class TestMailThread:
    def test_in_and_out_oldest_first_agents_only(self, make_store: Callable[[], Store]) -> None:
        """The received mail that opened the case, then the answer; customers are refused."""
        clock = FrozenClock(T0)
        desk = ServiceDesk(make_store(), tenant="acme", clock=clock,
                           settings=TenantSettings(access=AccessPolicy.default()))
        desk.mail = MailSettings("help@support.test")
        outcome = desk.ingest_mail(RAW)
        assert outcome.case_id is not None
        clock.advance(minutes=5)
        desk.reply_by_mail(outcome.case_id, "Please try the rear tray.", actor=ANA)
        thread = desk.mail_thread(outcome.case_id, actor=ANA)
        assert [(m.direction, m.address, m.outcome) for m in thread] == [
            ("in", "jane@example.com", "new"), ("out", "jane@example.com", "sent")]
        assert thread[0].at < thread[1].at
        with pytest.raises(PermissionDenied):
            desk.mail_thread(outcome.case_id, actor=Actor.customer("jane@example.com"))
        with pytest.raises(CaseNotFound):
            desk.mail_thread("nope", actor=ANA)
