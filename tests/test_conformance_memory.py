"""The storage contract run against the in-memory reference store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caselib import MemoryStore
from caselib.testing.conformance import StoreContract


class TestMemoryStore(StoreContract):
    """``MemoryStore`` passes the contract it is the model for."""

    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        store = MemoryStore()
        yield store
        store.close()
