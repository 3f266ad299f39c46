"""What every use case of one desk works with: :class:`DeskContext`.

The store, tenant, settings, clock, id factory and directory a :class:`ServiceDesk` was made
with, its compiled workflows and its knowledge-base index, and the plumbing every command
shares (:meth:`DeskContext.change` runs the three steps of a command described in
:mod:`caselib.desk.service`). Separate so that the use-case modules depend on this, not on the
facade, and the facade stays a list of delegating calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import attrs

from caselib.access import AccessPolicy, Permission
from caselib.cases import Actor, Case, CompiledWorkflow
from caselib.cases.merge import refuse_if_merged
from caselib.desk.retry import backoff_delay
from caselib.desk.settings import TenantSettings
from caselib.errors import (
    ConcurrencyConflict,
    InvalidConfiguration,
    InvalidInput,
    UnknownValue,
    WrongType,
)
from caselib.kb import KbIndex, ResolutionMemory
from caselib.ports import (
    CaseQuery,
    Clock,
    Store,
    SystemClock,
    UnitOfWork,
    get_for_update,
    require_tenant,
)
from caselib.reports import View
from caselib.routing import Directory
from caselib.sla import evaluate
from caselib.timeutil import aware_utc

__all__ = ["DeskContext", "Permit"]

_UNRESTRICTED = AccessPolicy.unrestricted()
_PROBE = Actor.agent("view-check", teams=["view-check"])
"""Who a tenant's views are checked for when the desk is made (placeholders need someone)."""

Permit = Permission | Callable[[Case], Permission]
"""The permission a command needs: fixed, or decided from the loaded case (a transition
needs ``service.resolve`` only when its target is a resolved or closed status)."""

_LATEST_ATTEMPTS = 50
"""How often :meth:`DeskContext.change` applies a latest-state command on a store without
``get_for_update`` before the conflict propagates (the backoff caps at 250 ms a pause)."""


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
        if settings is not None and not isinstance(settings, TenantSettings):
            raise WrongType("settings", "a TenantSettings or None", settings)
        self.store = store
        self.tenant = tenant
        self.settings = TenantSettings() if settings is None else settings
        self.clock: Clock = clock or SystemClock()
        self.directory = directory
        self.ids = ids
        self.local = threading.local()
        self.sleep: Callable[[float], object] = time.sleep  # backoff pauses (tests replace it)
        self.kb_index: KbIndex | None = None
        self.mail: object = None  # the e-mail channel's MailSettings (caselib.desk.mail)
        self.kb_version: int | None = None  # the article store's stamp the index reflects
        self.kb_memory: ResolutionMemory | None = None  # resolved cases, for the boost
        self.kb_lock = threading.Lock()
        self.workflows: dict[str, CompiledWorkflow] = {}
        for wf in (self.settings.workflow, *self.settings.workflows):
            if wf.name in self.workflows:
                raise InvalidConfiguration(f"two workflows are named {wf.name!r}")
            self.workflows[wf.name] = wf.compile()
        self.workflow = self.workflows[self.settings.workflow.name]
        for view in self.settings.views.views:
            try:
                self.view_query(view, _PROBE)
            except InvalidInput as err:
                raise InvalidConfiguration(f"view {view.name!r}: {err}") from err

    @property
    def statuses(self) -> frozenset[str]:
        """Every status of the desk's workflows (what a query may filter on)."""
        return frozenset(s for wf in self.workflows.values() for s in wf.categories)

    @property
    def access(self) -> AccessPolicy:
        """The tenant's access policy (unrestricted for agents when none is set)."""
        return self.settings.access or _UNRESTRICTED

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
        *,
        actor: Actor,
        permission: Permit,
    ) -> Case:
        """Check ``actor`` may, load, apply ``command``, save at the loaded version, commit.

        The permission is checked before anything is loaded (when it is fixed) and again on
        the loaded case, so a refused command reads as little as possible and writes nothing.
        A no-op (``command`` returned ``False``) saves nothing and returns the case as
        stored, whatever ``command`` touched on its way to deciding that nothing changed:
        what a command returns is always what the store holds.

        Without ``expected_version`` the command applies to the latest state and does not
        fail because another writer got there first: the case is loaded with
        :func:`~caselib.ports.get_for_update`, which makes writers of one case take turns
        (the store's row or write lock, taken before the read). Measured with 16 threads
        commenting on one SQLite case, that turned 276 failed calls of 400 into none, and
        the comments landed faster (72/s against 56/s of successful ones). A store without
        the capability gets the other remedy: a lost race is retried here, with jittered
        backoff. With ``expected_version`` the caller asked for *that* version, so a
        difference is :class:`ConcurrencyConflict` at once and never retried.
        """
        access = self.access
        if isinstance(permission, Permission):
            access.require(actor, permission)
        attempts = 0
        while True:
            attempts += 1
            outcome = self._change_once(case_id, command, expected_version, actor, permission)
            if not isinstance(outcome, ConcurrencyConflict):
                return outcome
            # a lost race of a latest-state command, on a store that cannot lock the case:
            # apply it again to the newer state (a case saved so often that this gives up
            # is a runaway job, not a busy desk)
            if attempts >= _LATEST_ATTEMPTS:
                raise outcome
            self.sleep(backoff_delay(attempts))

    def _change_once(
        self,
        case_id: str,
        command: Callable[[Case, datetime], object],
        expected_version: int | None,
        actor: Actor,
        permission: Permit,
    ) -> Case | ConcurrencyConflict:
        """One attempt of :meth:`change`; a conflict worth retrying is returned, not raised."""
        access = self.access
        now = self.now()
        with self.uow() as uow:
            self.local.uow = uow
            try:
                case, locked = get_for_update(uow.cases, case_id)
                access.check(actor, permission if isinstance(permission, Permission)
                             else permission(case), case)
                refuse_if_merged(case)  # commands go to the survivor
                if expected_version is not None and case.version != expected_version:
                    raise ConcurrencyConflict(case_id, expected_version, case.version)
                loaded = case.version
                if command(case, now) is False:
                    return uow.cases.get(case_id)
                self.after_change(case, now)
                try:
                    uow.cases.save(case, loaded)
                    uow.commit()
                except ConcurrencyConflict as conflict:
                    if locked or expected_version is not None:
                        raise
                    return conflict
            finally:
                self.local.uow = None
        return case

    def view_query(self, view: View, actor: Actor, *, after: str | None = None,
                   limit: int = 50) -> CaseQuery:
        """The :class:`CaseQuery` of ``view`` for ``actor`` (placeholders filled in, the
        statuses checked against this desk's workflows), without the access scope."""
        query = CaseQuery(**view.filters_for(actor), order=view.order,  # type: ignore[arg-type]
                          after=after, limit=limit)
        self.check_statuses(query)
        return query

    def check_statuses(self, query: CaseQuery) -> None:
        """A status no workflow of this desk has is refused with :class:`UnknownValue`, as
        an unknown priority is: it can only be a typo, and would otherwise list nothing."""
        if query.statuses is not None:
            known = self.statuses
            for status in sorted(query.statuses):
                if status not in known:
                    raise UnknownValue("statuses", status, sorted(known))

    def scoped(self, query: CaseQuery, actor: Actor) -> CaseQuery:
        """``query`` limited to the cases ``actor`` may read (its read scope added).

        A status no workflow of this desk has is refused with :class:`UnknownValue`, as an
        unknown priority is: it can only be a typo, and would otherwise list nothing.
        """
        access = self.access
        access.require(actor, Permission.READ)
        if query.visible is not None:
            raise InvalidInput("CaseQuery.visible is set by the desk from the actor; leave it "
                               "out and pass actor=", field="visible")
        self.check_statuses(query)
        seen = access.visible(actor, Permission.READ)
        return query if seen.everything else attrs.evolve(query, visible=seen)

    def read(self, case_id: str, actor: Actor, permission: Permission | None = None) -> Case:
        """Load a case ``actor`` may read (or hold ``permission`` on)."""
        access = self.access
        wanted = permission or access.read_permission(actor)
        access.require(actor, wanted)
        with self.uow() as uow:
            case = uow.cases.get(case_id)
        access.check(actor, wanted, case)
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
