"""The storage conformance suite: contract classes a store adapter subclasses in its own tests.

Subclass :class:`StoreContract` in a test module, name the subclass ``Test…`` and override the
``store`` fixture; pytest then runs every contract test against the adapter. Needs ``pytest``
and ``hypothesis`` (test dependencies, not runtime ones).
"""

from __future__ import annotations

from caselib.testing.conformance.core import (
    StoreContract,
    StoreMachine,
    assert_same_case,
    make_case,
    sla_state,
)

__all__ = [
    "StoreContract",
    "StoreMachine",
    "assert_same_case",
    "make_case",
    "sla_state",
]
