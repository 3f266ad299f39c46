"""The whole storage contract in one class: every port's contract, for a full ``Store``.

Only composition lives here; each port's tests are in their own module, which an adapter that
implements only some ports can subclass alone.
"""

from __future__ import annotations

from caselib.testing.conformance.assignment import AssignmentLedgerContract
from caselib.testing.conformance.cases import CaseNumberContract, CaseRepositoryContract
from caselib.testing.conformance.kb import KbContract
from caselib.testing.conformance.locking import CaseLockingContract
from caselib.testing.conformance.metrics import MetricsContract
from caselib.testing.conformance.outbox import OutboxContract
from caselib.testing.conformance.queries import CaseQueryContract
from caselib.testing.conformance.sla_sweep import SlaSweepContract
from caselib.testing.conformance.stateful import StatefulContract
from caselib.testing.conformance.unit_of_work import UnitOfWorkContract

__all__ = ["StoreContract"]


# The bases are listed last-to-run first: pytest collects inherited tests from the base-most
# class of the MRO upwards, so this order runs the suite as it always ran, from the case
# repository to the stateful test.
class StoreContract(
    MetricsContract,
    StatefulContract,
    SlaSweepContract,
    AssignmentLedgerContract,
    KbContract,
    OutboxContract,
    CaseNumberContract,
    CaseLockingContract,
    CaseQueryContract,
    UnitOfWorkContract,
    CaseRepositoryContract,
):
    """The tests every storage adapter must pass. Subclass as ``class TestMyStore(StoreContract)``.

    Not named ``Test…``, so pytest does not collect the base class itself.

    Fixtures to provide:

    ``store`` (required)
        Yields a **fresh, empty** :class:`~caselib.ports.Store` and closes it afterwards.
        Function-scoped: every test starts from nothing.

    ``second_store`` (optional)
        Another handle on the **same** data (a second connection, a second process's
        view), used wherever the contract says "another unit of work", e.g. to check
        that uncommitted writes are invisible elsewhere. Default: ``store`` itself, which
        is right for stores that are one object per process (``MemoryStore``). SQL adapters
        should open a second store object on the same file/database so the tests exercise
        two connections.

    Hooks:

    ``stateful_settings()``
        The hypothesis settings of the stateful test. By default a quarter of the loaded
        profile's ``max_examples`` (at least 10), 20 steps each, no deadline.

    Fresh state per stateful example: the stateful test does not need a store factory.
    Each hypothesis example works in a **new random tenant** of the ``store`` fixture; the
    tenancy tests guarantee that a new tenant is, observably, an empty store. This keeps
    SQL adapters from creating a schema per example. An adapter whose tenancy is broken fails
    the tenancy tests first, which point at the real problem.

    Concurrency assumptions: some tests hold two units of work open at once from one thread
    (one may have written, the other only reads), and stores with a single writer (SQLite)
    must not block a reader meanwhile. Where a second unit of work might legitimately wait
    for the first one's locks (an outbox relay), the test runs it in a thread.
    """
