"""The fixtures every contract class asks for, defined once for all of them.

A base of its own so that each port's contract class can be subclassed alone (an adapter that
implements only some ports) and :class:`~caselib.testing.conformance.StoreContract` can combine
them all without defining ``store`` twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from caselib.ports import Store

__all__ = ["StoreFixtures"]


class StoreFixtures:
    """The ``store`` and ``second_store`` fixtures and the two tenants the contract uses.

    What the fixtures must yield is described on
    :class:`~caselib.testing.conformance.StoreContract`. Not named ``Test…``, so pytest does
    not collect it.
    """

    tenant: ClassVar[str] = "acme"
    other_tenant: ClassVar[str] = "globex"

    # -- fixtures ----------------------------------------------------------------------------

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """Override: yield a fresh, empty store and close it afterwards."""
        raise NotImplementedError(
            f"{type(self).__name__} must override the `store` fixture "
            "(see caselib.testing.conformance.StoreContract)")

    @pytest.fixture
    def second_store(self, store: Store) -> Store:
        """Override: another handle on the same data as ``store`` (default: ``store``).

        An override that opens a new handle should yield it and close it afterwards.
        """
        return store
