"""The case-link contract on the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from caselib.ports import Store
from caselib.testing.conformance import CaseLinkContract


class TestCaseLinks(CaseLinkContract):
    """Every bundled store keeps case links."""

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Store:
        return make_store()

