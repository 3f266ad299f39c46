"""The automation ledger contract on the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from caselib.ports import Store
from caselib.testing.conformance import AutomationLedgerContract


class TestAutomationLedger(AutomationLedgerContract):
    """Every bundled store keeps the automation ledger."""

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Store:
        return make_store()

