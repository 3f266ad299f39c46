"""The relations contract (merge journal, templates, checklists) on the memory, SQLite and
PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from caselib.ports import Store
from caselib.testing.conformance import RelationsContract


class TestRelations(RelationsContract):
    """Every bundled store keeps the merge journal, templates and checklists."""

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Store:
        return make_store()

