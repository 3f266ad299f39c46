"""The storage contract: a pytest suite every :class:`~caselib.ports.Store` adapter must pass.

Subclass :class:`StoreContract` in a test module, name the subclass ``Test…`` and override the
``store`` fixture; pytest then runs every contract test against the adapter::

    import pytest
    from caselib.testing.conformance import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            s = MyStore(tmp_path / "cases.db")
            yield s
            s.close()

The contract is the docstrings of :mod:`caselib.ports`, made executable: what a host may rely
on whichever adapter it runs on. :class:`~caselib.storage.memory.MemoryStore` is the reference
model: the stateful test replays random operations against the adapter and a ``MemoryStore``
side by side and requires identical observable results.

:class:`StoreContract` is the sum of one contract class per port, each in its own module and
each taking the same ``store`` fixture, so an adapter that implements only some ports can
subclass just those: :class:`CaseRepositoryContract` and :class:`CaseQueryContract`
(:class:`~caselib.ports.CaseRepository`), :class:`CaseNumberContract`,
:class:`CaseSearchContract` (text search), :class:`CaseLockingContract` (the optional
:class:`~caselib.ports.LockingCaseRepository`), :class:`UnitOfWorkContract` (isolation,
rollback and tenancy across ports),
:class:`OutboxContract`, :class:`KbContract` (articles and the KB log),
:class:`AssignmentLedgerContract`, :class:`SlaSweepContract`, :class:`StatefulContract`
(:class:`StoreMachine` against the memory model), :class:`MetricsContract` (cards,
scorecard and list rows against the memory store on random histories), and
:class:`AutomationLedgerContract` (the optional :class:`~caselib.ports.AutomationLedger`; not
in :class:`StoreContract`), :class:`CaseLinkContract` (the optional
:class:`~caselib.ports.CaseLinkRepository`; not in :class:`StoreContract` either), and
:class:`RelationsContract` (the merge journal, templates and checklists through a desk over
the adapter, with :func:`assert_restored`, what "merge then unmerge restores exactly" means;
needs case links, so not in :class:`StoreContract`).

Needs ``pytest`` and ``hypothesis`` (test dependencies, not runtime ones).

.. versionadded:: 0.1
"""

from __future__ import annotations

from caselib.testing.conformance.assignment import AssignmentLedgerContract
from caselib.testing.conformance.automation import AutomationLedgerContract
from caselib.testing.conformance.cases import CaseNumberContract, CaseRepositoryContract
from caselib.testing.conformance.helpers import assert_same_case, make_case, sla_state
from caselib.testing.conformance.kb import KbContract
from caselib.testing.conformance.links import CaseLinkContract
from caselib.testing.conformance.locking import CaseLockingContract
from caselib.testing.conformance.mail import MailLedgerContract
from caselib.testing.conformance.metrics import MetricsContract
from caselib.testing.conformance.outbox import OutboxContract
from caselib.testing.conformance.queries import CaseQueryContract
from caselib.testing.conformance.relations import RelationsContract, assert_restored
from caselib.testing.conformance.search import CaseSearchContract
from caselib.testing.conformance.sla_sweep import SlaSweepContract
from caselib.testing.conformance.stateful import StatefulContract, StoreMachine
from caselib.testing.conformance.store import StoreContract
from caselib.testing.conformance.unit_of_work import UnitOfWorkContract

__all__ = [
    "AssignmentLedgerContract",
    "AutomationLedgerContract",
    "CaseLinkContract",
    "CaseLockingContract",
    "CaseNumberContract",
    "CaseQueryContract",
    "CaseRepositoryContract",
    "CaseSearchContract",
    "KbContract",
    "MailLedgerContract",
    "MetricsContract",
    "OutboxContract",
    "RelationsContract",
    "SlaSweepContract",
    "StatefulContract",
    "StoreContract",
    "StoreMachine",
    "UnitOfWorkContract",
    "assert_restored",
    "assert_same_case",
    "make_case",
    "sla_state",
]
