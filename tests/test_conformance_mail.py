"""The mail ledger contract on the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from caselib.ports import Store
from caselib.testing.conformance import MailLedgerContract


class TestMailLedger(MailLedgerContract):
    """Every bundled store keeps the mail ledger."""

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Store:
        return make_store()
