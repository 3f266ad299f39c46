"""What every use case of one desk works with: :class:`DeskContext`.

The store, tenant, settings, clock, id factory and directory a :class:`ServiceDesk` was made
with, its compiled workflows and its knowledge-base index, and the plumbing every command
shares (:meth:`DeskContext.change` runs the three steps of a command described in
:mod:`caselib.desk.service`). Separate so that the use-case modules depend on this, not on the
facade, and the facade stays a list of delegating calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from caselib.cases import Case, CompiledWorkflow
from caselib.desk.settings import TenantSettings
from caselib.errors import ConcurrencyConflict, InvalidConfiguration
from caselib.kb import KbIndex, ResolutionMemory
from caselib.ports import Clock, Store, SystemClock, UnitOfWork, require_tenant
from caselib.routing import Directory
from caselib.sla import evaluate
from caselib.timeutil import aware_utc

__all__ = ["DeskContext"]


class DeskContext:
    """One desk's tenant, collaborators and caches, shared by its use-case modules.

    ``local.uow`` is the unit of work of the command running on this thread (set by
    :meth:`change`), for commands that read other repositories inside it.
    """

    def __init__(
        self,
        store: Store,
        *,
        tenant: str,
        settings: TenantSettings | None,
        clock: Clock | None,
        ids: Callable[[], str],
        directory: Directory | None,
    ) -> None:
        require_tenant(tenant)
        self.store = store
        self.tenant = tenant
        self.settings = settings or TenantSettings()
        self.clock: Clock = clock or SystemClock()
        self.directory = directory
        self.ids = ids
        self.local = threading.local()
        self.kb_index: KbIndex | None = None
        self.kb_version: int | None = None  # the article store's stamp the index reflects
        self.kb_memory: ResolutionMemory | None = None  # resolved cases, for the boost
        self.kb_lock = threading.Lock()
        self.workflows: dict[str, CompiledWorkflow] = {}
        for wf in (self.settings.workflow, *self.settings.workflows):
            if wf.name in self.workflows:
                raise InvalidConfiguration(f"two workflows are named {wf.name!r}")
            self.workflows[wf.name] = wf.compile()
        self.workflow = self.workflows[self.settings.workflow.name]

    def now(self) -> datetime:
        return aware_utc(self.clock.now(), "clock.now()")

    def uow(self) -> UnitOfWork:
        return self.store.unit_of_work(self.tenant)

    def workflow_of(self, case: Case) -> CompiledWorkflow:
        try:
            return self.workflows[case.workflow]
        except KeyError:
            raise InvalidConfiguration(
                f"case {case.number} follows workflow {case.workflow!r}, which this desk does "
                "not know; add it to TenantSettings.workflows"
            ) from None

    def change(
        self,
        case_id: str,
        command: Callable[[Case, datetime], object],
        expected_version: int | None = None,
    ) -> Case:
        """Load, apply ``command``, save at the loaded version, commit. No-ops save nothing."""
        now = self.now()
        with self.uow() as uow:
            self.local.uow = uow
            try:
                case = uow.cases.get(case_id)
                if expected_version is not None and case.version != expected_version:
                    raise ConcurrencyConflict(case_id, expected_version, case.version)
                loaded = case.version
                if command(case, now) is False:
                    return case
                self.after_change(case, now)
                uow.cases.save(case, loaded)
                uow.commit()
            finally:
                self.local.uow = None
        return case

    def after_change(self, case: Case, now: datetime) -> None:
        """Re-derive SLA clocks after every command, before the save.

        Due times come from the start time and the pause history (never from ``now``), so a
        priority change or a policy edit moves them consistently; ``now`` only decides the
        displayed state (running / warning). Breaches are recorded by the sweep alone, so
        each is noticed, escalated and notified exactly once.
        """
        policies = self.settings.sla
        if policies is None:
            return
        policy = policies.policy_for(case)
        case.sla_policy = policy.id
        if case.sla_started_at is None:
            case.sla_started_at = case.created_at
        result = evaluate(case, policy, now)
        case.pauses = list(result.pauses)
        case.sla_targets = list(result.targets)
