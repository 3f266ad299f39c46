"""ServiceDesk: the application layer. One method per use case.

This is the only part of caselib that reads the clock, opens units of work, calls
repositories and publishes events. Each command:

1. opens a unit of work on the desk's tenant and loads the case,
2. runs the domain code (which validates everything before it changes anything),
3. saves with the version it loaded (a concurrent save makes this raise
   :class:`~caselib.errors.ConcurrencyConflict`) and commits case, timeline and outbox
   events together.

A command that raises has written nothing. Commands return the case as saved.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import attrs

from caselib.cases import (
    Actor,
    Attachment,
    Case,
    CasePolicy,
    CompiledWorkflow,
    Links,
    SlaBreached,
    Workflow,
)
from caselib.errors import (
    CaseNotFound,
    ConcurrencyConflict,
    InvalidConfiguration,
    InvalidInput,
    PermissionDenied,
    StorageError,
    TransitionNotAllowed,
)
from caselib.kb import (
    Article,
    CategoryMode,
    Deflection,
    DeflectionReport,
    KbIndex,
    KbSettings,
    Period,
    ResolvedByArticle,
    Suggestion,
    SuggestionShown,
    case_query,
    deflection_analytics,
)
from caselib.ports import (
    MAX_QUERY_LIMIT,
    CaseQuery,
    CaseSummary,
    Clock,
    EventSink,
    Notification,
    Notifier,
    Page,
    SlaSweepRepository,
    Store,
    SystemClock,
    UnitOfWork,
    require_tenant,
    sla_parts,
    units_cross_threads,
)
from caselib.routing import (
    AgentLoad,
    AssignmentOutcome,
    Directory,
    FallbackMap,
    RouteDecision,
    Router,
    choose_assignee,
)
from caselib.sla import (
    DueExplanation,
    SlaCase,
    SlaPolicies,
    evaluate,
    explain_due,
    mark_breached,
)
from caselib.timeutil import aware_utc, to_iso
from caselib.vocab import Audience, Priority, Severity, Source, StatusCategory

__all__ = [
    "BreachNotice",
    "CustomerReply",
    "CustomerView",
    "ServiceDesk",
    "SweepReport",
    "TenantSettings",
    "default_router",
]

T = TypeVar("T")


def default_router() -> Router:
    """No tenant rules; reason code first (missing_part → purchasing …), then category
    (Billing → finance, Technical → engineering), else ``support``."""
    return Router(fallbacks=[FallbackMap.by_reason_code(default=None), FallbackMap.by_category()])


@attrs.frozen
class TenantSettings:
    """How one tenant runs its desk: workflow(s), case policy and router.

    ``workflows`` holds extra workflows that existing cases may still follow (a tenant that
    switches from *simple* to a board keeps serving its old cases). ``router`` decides the team
    queue (and maybe an owner) of new cases; ``None`` turns routing off.
    """

    workflow: Workflow = attrs.field(factory=Workflow.default)
    policy: CasePolicy = attrs.field(factory=CasePolicy)
    workflows: tuple[Workflow, ...] = ()
    router: Router | None = attrs.field(factory=default_router)
    kb: KbSettings = attrs.field(factory=KbSettings)
    sla: SlaPolicies | None = attrs.field(factory=SlaPolicies)
    """SLA policies; ``None`` turns SLA clocks off."""


@attrs.frozen
class CustomerReply:
    """A public timeline entry as the customer sees it."""

    seq: int
    at: datetime
    author: str
    from_customer: bool
    body: str
    redacted: bool


@attrs.frozen
class CustomerView:
    """What a customer portal may show: no internal notes, no system activity."""

    number: str
    subject: str
    status: str
    status_label: str
    status_category: StatusCategory
    created_at: datetime
    updated_at: datetime
    replies: tuple[CustomerReply, ...]
    resolution: str | None


@attrs.frozen
class BreachNotice:
    """One breach the sweep recorded: which case and target, and who was told."""

    case_id: str
    number: str
    target: str
    due_at: datetime
    breached_by_seconds: float
    old_priority: Priority
    new_priority: Priority
    notified: tuple[str, ...]


@attrs.frozen
class SweepReport:
    """What one :meth:`ServiceDesk.sweep_breaches` run did."""

    at: datetime
    examined: int
    breaches: tuple[BreachNotice, ...]
    conflicts: int
    """Cases another sweeper (or a command) changed first; they were re-read and re-checked."""

    @property
    def cases_breached(self) -> int:
        """Distinct cases with at least one new breach."""
        return len({b.case_id for b in self.breaches})


def _new_id() -> str:
    return uuid.uuid4().hex


class ServiceDesk:
    """Support-case use cases for one tenant, over any :class:`~caselib.ports.Store`.

    Args:
        store: where cases live (``MemoryStore()``, ``SqliteStore(path)``, …).
        tenant: every call is scoped to this tenant; use :meth:`for_tenant` for others.
        settings: workflow and case policy (defaults: :meth:`Workflow.default`, default
            vocabulary, ``CASE-0001`` numbers).
        clock: where "now" comes from (inject ``caselib.testing.FrozenClock`` in tests).
        ids: makes new case ids (default: random UUID hex).
    """

    def __init__(
        self,
        store: Store,
        *,
        tenant: str = "default",
        settings: TenantSettings | None = None,
        clock: Clock | None = None,
        ids: Callable[[], str] = _new_id,
        directory: Directory | None = None,
    ) -> None:
        require_tenant(tenant)
        self.store = store
        self.tenant = tenant
        self.settings = settings or TenantSettings()
        self.clock: Clock = clock or SystemClock()
        self.directory = directory
        self._ids = ids
        self._local = threading.local()
        self._kb_index: KbIndex | None = None
        self._kb_lock = threading.Lock()
        self._workflows: dict[str, CompiledWorkflow] = {}
        for wf in (self.settings.workflow, *self.settings.workflows):
            if wf.name in self._workflows:
                raise InvalidConfiguration(f"two workflows are named {wf.name!r}")
            self._workflows[wf.name] = wf.compile()
        self.workflow = self._workflows[self.settings.workflow.name]

    def __repr__(self) -> str:
        return f"<ServiceDesk tenant={self.tenant!r} workflow={self.workflow.name!r}>"

    def for_tenant(self, tenant: str, settings: TenantSettings | None = None) -> ServiceDesk:
        """A desk over the same store and clock for another tenant."""
        return ServiceDesk(self.store, tenant=tenant, settings=settings or self.settings,
                           clock=self.clock, ids=self._ids, directory=self.directory)

    # -- plumbing ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return aware_utc(self.clock.now(), "clock.now()")

    def _uow(self) -> UnitOfWork:
        return self.store.unit_of_work(self.tenant)

    def _workflow_of(self, case: Case) -> CompiledWorkflow:
        try:
            return self._workflows[case.workflow]
        except KeyError:
            raise InvalidConfiguration(
                f"case {case.number} follows workflow {case.workflow!r}, which this desk does "
                "not know; add it to TenantSettings.workflows") from None

    def _change(
        self,
        case_id: str,
        command: Callable[[Case, datetime], object],
        expected_version: int | None = None,
    ) -> Case:
        """Load, apply ``command``, save at the loaded version, commit. No-ops save nothing."""
        now = self._now()
        with self._uow() as uow:
            self._local.uow = uow
            try:
                case = uow.cases.get(case_id)
                if expected_version is not None and case.version != expected_version:
                    raise ConcurrencyConflict(case_id, expected_version, case.version)
                loaded = case.version
                if command(case, now) is False:
                    return case
                self._after_change(case, now)
                uow.cases.save(case, loaded)
                uow.commit()
            finally:
                self._local.uow = None
        return case

    def _after_change(self, case: Case, now: datetime) -> None:
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

    def retrying(self, command: Callable[[], T], *, attempts: int = 5) -> T:
        """Run ``command`` again when it loses a race (:class:`ConcurrencyConflict`).

        Commands reload the case each time, and a command that raised a conflict wrote
        nothing, so retrying is safe whenever applying the command to the newer state is
        what you want (adding a comment, assigning, changing priority). Do not wrap a command
        that passes ``expected_version`` from a form: that conflict is for the user to see.

        >>> desk.retrying(lambda: desk.add_comment(cid, "On it", actor=ana))  # doctest: +SKIP
        """
        if attempts < 1:
            raise InvalidInput("attempts must be at least 1", field="attempts")
        for attempt in range(attempts):
            try:
                return command()
            except ConcurrencyConflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- queries ----------------------------------------------------------------------------

    def get_case(self, case_id: str) -> Case:
        """Load one case; :class:`~caselib.errors.CaseNotFound` if it is not in this tenant."""
        with self._uow() as uow:
            return uow.cases.get(case_id)

    def get_case_by_number(self, number: str) -> Case:
        """Load one case by its human number (``CASE-0042``)."""
        with self._uow() as uow:
            return uow.cases.get_by_number(number)

    def find_cases(self, query: CaseQuery | None = None, **filters: Any) -> Page:
        """Case summaries matching a :class:`~caselib.ports.CaseQuery` (or its fields as kwargs)."""
        q = query if query is not None else CaseQuery(**filters)
        with self._uow() as uow:
            return uow.cases.query(q)

    def count_by_status(self, query: CaseQuery | None = None) -> dict[str, int]:
        """Open board columns: ``{status: count}`` for the cases matching ``query``."""
        with self._uow() as uow:
            return uow.cases.count_by_status(query)

    def allowed_transitions(self, case: Case) -> tuple[str, ...]:
        """Statuses ``case`` can move to next (for building buttons)."""
        return self._workflow_of(case).allowed_transitions(case.status)

    def customer_view(self, case_id: str) -> CustomerView:
        """The case as its customer may see it: public replies only, redactions blanked."""
        case = self.get_case(case_id)
        wf = self._workflow_of(case)
        labels = {s.id: s.label for s in wf.workflow.statuses}
        replies = tuple(
            CustomerReply(e.seq, e.at, e.actor, e.actor_kind.value == "customer",
                          "" if e.redaction else e.body, e.redaction is not None)
            for e in case.timeline
            if e.audience is Audience.PUBLIC
        )
        res = case.resolution
        return CustomerView(case.number, case.subject, case.status,
                            labels.get(case.status, case.status), case.status_category,
                            case.created_at, case.updated_at, replies,
                            None if res is None else res.summary)

    # -- commands ---------------------------------------------------------------------------

    def create_case(
        self,
        *,
        subject: str,
        actor: Actor,
        description: str = "",
        priority: Priority | str | None = None,
        severity: Severity | str | None = None,
        case_type: str | None = None,
        category: str | None = None,
        subcategory: str | None = None,
        reason_code: str | None = None,
        source: Source | str = Source.OTHER,
        links: Links | Mapping[str, str | None] | None = None,
        tags: Iterable[str] = (),
        custom: Mapping[str, object] | None = None,
        assignee: str | None = None,
        team: str | None = None,
    ) -> Case:
        """Open a case in the workflow's initial status and give it the next case number.

        Unless ``assignee`` or ``team`` is given (a manual, sticky assignment), the router
        picks the team queue and the team's strategy may pick an owner. If another process
        takes the same round-robin turn at the same moment, the create is retried (nothing
        was written by the losing attempt).
        """
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                return self._create(
                    subject=subject, actor=actor, description=description, priority=priority,
                    severity=severity, case_type=case_type, category=category,
                    subcategory=subcategory, reason_code=reason_code, source=source,
                    links=links, tags=tags, custom=custom, assignee=assignee, team=team)
            except ConcurrencyConflict:
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _create(self, **fields: Any) -> Case:
        now = self._now()
        policy = self.settings.policy
        wf = self.workflow
        actor: Actor = fields.pop("actor")
        assignee = fields.pop("assignee")
        team = fields.pop("team")
        with self._uow() as uow:
            number = policy.numbers.format(uow.numbers.next_number())
            case = Case.open(
                id=self._ids(), tenant=self.tenant, number=number, status=wf.initial,
                status_category=wf.category(wf.initial), workflow=wf.name, actor=actor, at=now,
                policy=policy, **fields,
            )
            if assignee is not None or team is not None:
                case.assign(assignee=assignee, team=team, actor=actor, at=now)
            else:
                self._route(uow, case, now)
            self._after_change(case, now)
            uow.cases.add(case)
            uow.commit()
        return case

    # -- routing and assignment -------------------------------------------------------------

    @staticmethod
    def routing_facts(case: Case) -> dict[str, object]:
        """What routing rules see of a case (see :data:`caselib.routing.ROUTABLE_FIELDS`)."""
        facts: dict[str, object] = {
            "category": case.category, "subcategory": case.subcategory,
            "reason_code": case.reason_code, "case_type": case.case_type,
            "source": case.source.value, "priority": case.priority.value,
            "severity": None if case.severity is None else case.severity.value,
            "tags": case.tags, "account": case.links.account,
            "tier": case.custom.get("tier"),
        }
        for key, value in case.custom.items():
            facts[f"custom.{key}"] = value
        return facts

    def route_preview(self, fields: Mapping[str, object]) -> RouteDecision:
        """What routing would decide for a case with these fields, creating nothing.

        ``fields`` uses the routing fact names (``category``, ``reason_code``, ``tier``,
        ``custom.<name>`` …); admin UIs show the decision's ``text`` to explain it.
        """
        router = self.settings.router
        if router is None:
            raise InvalidConfiguration("routing is turned off for this tenant (router=None)")
        return router.route(fields)

    def _route(self, uow: UnitOfWork, case: Case, now: datetime) -> None:
        """Route ``case`` to a queue (and maybe an owner), then assign inside the team."""
        router = self.settings.router
        if router is None:
            return
        decision = router.route(self.routing_facts(case))
        system = Actor.system("router")
        case.record_activity(system, now, "routed", decision.text, decision=decision.to_dict())
        if decision.owner is not None:
            case.assign(assignee=decision.owner, team=decision.team, actor=system, at=now,
                        manual=False, reason=decision.text)
            return
        outcome = self._choose_in_team(uow, case, decision.team, now)
        owner = None if outcome is None else outcome.agent_id
        case.assign(assignee=owner, team=decision.team, actor=system, at=now, manual=False,
                    reason=decision.text if outcome is None else outcome.reason)
        if outcome is not None and owner is None:
            case.record_activity(system, now, "assignment_skipped", outcome.reason,
                                 team=decision.team, notify=outcome.notify)

    def _choose_in_team(self, uow: UnitOfWork, case: Case, team_id: str,
                        now: datetime) -> AssignmentOutcome | None:
        """Run the team's assignment strategy; ``None`` when the directory has no such team."""
        directory = self.directory
        team = None if directory is None else directory.team(team_id)
        if directory is None or team is None:
            return None
        members = list(team.members)
        agents = [a for a in (directory.agent(m) for m in members) if a is not None]
        counts = uow.cases.open_counts(members)
        last = uow.assignments.last_assigned(members)
        loads = [AgentLoad(m, counts.get(m, 0), last.get(m)) for m in members]
        needs = [t.removeprefix("skill:") for t in case.tags if t.startswith("skill:")]
        cursor = uow.assignments.cursor(team_id)
        outcome = choose_assignee(team, agents, loads, needs_skills=needs, cursor=cursor,
                                  now=now, available=directory.is_available)
        if outcome.agent_id is not None:
            if outcome.cursor != cursor and outcome.cursor is not None and not (
                uow.assignments.compare_and_set_cursor(team_id, cursor, outcome.cursor)
            ):
                raise ConcurrencyConflict(f"round-robin cursor of team {team_id!r}", 0, None)
            uow.assignments.record_assigned(outcome.agent_id, now)
        return outcome

    def reroute(self, case_id: str, *, actor: Actor, force: bool = False,
                expected_version: int | None = None) -> Case:
        """Route the case again (after its category or reason code changed).

        A case assigned by hand is sticky and left alone unless ``force`` is true.
        """

        def command(case: Case, now: datetime) -> bool:
            if case.assigned_manually and not force:
                return False
            return self._reroute_in(case, now)

        return self._change(case_id, command, expected_version)

    def _reroute_in(self, case: Case, now: datetime) -> bool:
        uow: UnitOfWork = self._local.uow  # the command's own unit of work (see _change)
        before = (case.assignee, case.team, len(case.timeline))
        self._route(uow, case, now)
        return (case.assignee, case.team, len(case.timeline)) != before

    def add_comment(
        self,
        case_id: str,
        body: str,
        *,
        actor: Actor,
        audience: Audience | str = Audience.INTERNAL,
        expected_version: int | None = None,
    ) -> Case:
        """Add an internal note (default) or a public reply (``audience="public"``)."""
        return self._change(
            case_id,
            lambda case, now: case.add_comment(body, audience=audience, actor=actor, at=now),
            expected_version,
        )

    def redact_comment(
        self, case_id: str, seq: int, *, reason: str, actor: Actor,
        expected_version: int | None = None,
    ) -> Case:
        """Blank a wrong comment's text; the entry, its audience and the redaction stay."""
        return self._change(
            case_id,
            lambda case, now: case.redact_comment(seq, reason=reason, actor=actor, at=now),
            expected_version,
        )

    def transition(
        self,
        case_id: str,
        to: str,
        *,
        actor: Actor,
        note: str | None = None,
        resolution_code: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Move the case to status ``to`` if the workflow allows it and its gates pass."""

        def command(case: Case, now: datetime) -> None:
            self._workflow_of(case).apply(case, to, actor=actor, at=now, note=note,
                                          resolution_code=resolution_code)

        return self._change(case_id, command, expected_version)

    def _to_category(
        self,
        case_id: str,
        categories: Sequence[StatusCategory],
        label: str,
        *,
        actor: Actor,
        note: str | None,
        resolution_code: str | None = None,
        csat: int | None = None,
        expected_version: int | None = None,
    ) -> Case:
        def command(case: Case, now: datetime) -> None:
            wf = self._workflow_of(case)
            target = wf.first_target(case.status, categories)
            if target is None:
                raise TransitionNotAllowed(case.status, label,
                                           wf.allowed_transitions(case.status))
            wf.apply(case, target, actor=actor, at=now, note=note,
                     resolution_code=resolution_code, csat=csat)

        return self._change(case_id, command, expected_version)

    def resolve(
        self,
        case_id: str,
        summary: str,
        *,
        actor: Actor,
        code: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Move to the workflow's resolved status with a resolution summary (required)."""
        return self._to_category(case_id, (StatusCategory.RESOLVED,), "resolved", actor=actor,
                                 note=summary, resolution_code=code,
                                 expected_version=expected_version)

    def close(
        self,
        case_id: str,
        note: str,
        *,
        actor: Actor,
        csat: int | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Move to the workflow's closed status with a closing note, optionally a CSAT 1–5."""
        return self._to_category(case_id, (StatusCategory.CLOSED,), "closed", actor=actor,
                                 note=note, csat=csat, expected_version=expected_version)

    def reopen(
        self,
        case_id: str,
        *,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Send a resolved or closed case back to work; earlier resolutions are kept."""

        def command(case: Case, now: datetime) -> None:
            wf = self._workflow_of(case)
            if case.is_active:
                raise TransitionNotAllowed(case.status, "reopen",
                                           wf.allowed_transitions(case.status))
            target = wf.first_target(case.status, (StatusCategory.OPEN, StatusCategory.NEW))
            if target is None:
                raise TransitionNotAllowed(case.status, "reopen",
                                           wf.allowed_transitions(case.status))
            wf.apply(case, target, actor=actor, at=now, note=reason)

        return self._change(case_id, command, expected_version)

    def rate(
        self, case_id: str, score: int, *, actor: Actor, comment: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Record CSAT 1–5 on a resolved or closed case."""
        return self._change(
            case_id,
            lambda case, now: case.record_csat(score, actor=actor, at=now, comment=comment),
            expected_version,
        )

    def assign(
        self,
        case_id: str,
        *,
        actor: Actor,
        assignee: str | None = None,
        team: str | None = None,
        keep_team: bool = True,
        expected_version: int | None = None,
    ) -> Case:
        """Assign by hand (sticky: automatic re-routing will not override it).

        With ``keep_team`` (default) and no ``team``, the case stays in its current queue.
        """

        def command(case: Case, now: datetime) -> bool:
            queue = team if team is not None or not keep_team else case.team
            return case.assign(assignee=assignee, team=queue, actor=actor, at=now, manual=True)

        return self._change(case_id, command, expected_version)

    def change_priority(
        self,
        case_id: str,
        priority: Priority | str,
        *,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Set the priority rung (SLA due times are re-derived when an SLA engine is set)."""
        return self._change(
            case_id,
            lambda case, now: case.change_priority(priority, actor=actor, at=now, reason=reason),
            expected_version,
        )

    def update_fields(
        self,
        case_id: str,
        changes: Mapping[str, object],
        *,
        actor: Actor,
        force_reroute: bool = False,
        expected_version: int | None = None,
    ) -> Case:
        """Change descriptive fields (see :meth:`Case.update_fields` for the keys).

        When the category or reason code changes the case is routed again, unless it was
        assigned by hand (sticky); ``force_reroute`` overrides that.
        """

        def command(case: Case, now: datetime) -> bool:
            diff = case.update_fields(changes, actor=actor, at=now, policy=self.settings.policy)
            if ("category" in diff or "reason_code" in diff) and (
                force_reroute or not case.assigned_manually
            ):
                self._reroute_in(case, now)
            return bool(diff)

        return self._change(case_id, command, expected_version)

    def add_attachment(
        self,
        case_id: str,
        *,
        actor: Actor,
        name: str,
        content_type: str,
        size: int,
        sha256: str,
        storage_key: str,
        expected_version: int | None = None,
    ) -> Case:
        """Attach evidence metadata (the bytes stay in the host's blob storage)."""

        def command(case: Case, now: datetime) -> None:
            case.add_attachment(
                Attachment(name, content_type, size, sha256, storage_key, now, actor.id),
                actor=actor,
            )

        return self._change(case_id, command, expected_version)

    # -- events -----------------------------------------------------------------------------

    def dispatch_events(self, sink: EventSink, *, limit: int = 100) -> int:
        """Relay pending outbox events to ``sink``, at least once; returns how many.

        Each message is marked delivered only after ``sink.publish`` returned. If the sink
        raises, the messages published before it stay delivered, the failing one stays
        pending for the next call, and the error propagates.
        """
        delivered = 0
        with self._uow() as uow:
            messages = uow.outbox.pending(limit)
            done: list[str] = []
            try:
                for message in messages:
                    sink.publish(message)
                    done.append(message.key)
            finally:
                if done:
                    uow.outbox.mark_delivered(done)
                    uow.commit()
                    delivered = len(done)
        return delivered

    # -- knowledge base ---------------------------------------------------------------------

    def kb_index(self) -> KbIndex:
        """The tenant's article index, built from the article store on first use.

        The index lives in this desk's memory and is kept current by :meth:`put_article` and
        :meth:`remove_article`; a desk in another process rebuilds its own at start-up (see
        docs/kb.md for the trade-off) or after :meth:`reload_kb`.
        """
        with self._kb_lock:
            if self._kb_index is None:
                with self._uow() as uow:
                    articles = uow.articles.list()
                self._kb_index = KbIndex.build(articles, self.settings.kb)
            return self._kb_index

    def reload_kb(self) -> KbIndex:
        """Rebuild the index from the article store (after another process changed it)."""
        with self._kb_lock:
            self._kb_index = None
        return self.kb_index()

    def put_article(self, article: Article, *, actor: Actor) -> Article:
        """Create or replace a knowledge-base article; only agents may."""
        if actor.kind.value == "customer":
            raise PermissionDenied("customers cannot edit knowledge-base articles")
        index = self.kb_index()
        with self._uow() as uow:
            uow.articles.put(article)
            uow.commit()
        with self._kb_lock:
            index.upsert(article)
        return article

    def remove_article(self, article_id: str, *, actor: Actor) -> None:
        """Delete an article (suggestion and deflection history stays)."""
        if actor.kind.value == "customer":
            raise PermissionDenied("customers cannot edit knowledge-base articles")
        index = self.kb_index()
        with self._uow() as uow:
            uow.articles.remove(article_id)
            uow.commit()
        with self._kb_lock:
            if article_id in index:
                index.remove(article_id)

    def suggest_articles(self, case_id: str, *, actor: Actor, limit: int = 5,
                         category_mode: CategoryMode = "boost") -> list[Suggestion]:
        """Published articles scored against the case, best first; logs that they were shown.

        The query is built only from what the customer can see (subject, description,
        category, latest public replies), so a suggestion never leaks an internal note.
        """
        now = self._now()
        case = self.get_case(case_id)
        replies = [e.body for e in case.timeline if e.audience is Audience.PUBLIC and e.body]
        query = case_query(case.subject, case.description, case.category, replies)
        index = self.kb_index()
        with self._kb_lock:
            hits = index.search(query, limit=limit, category=case.category,
                                category_mode=category_mode)
        if hits:
            with self._uow() as uow:
                uow.kb_log.record_shown([
                    SuggestionShown(case.id, h.article_id, h.rank, h.score, now, actor.id)
                    for h in hits])
                uow.commit()
        return hits

    def open_article(self, case_id: str, article_id: str, *, actor: Actor) -> Deflection:
        """Record that a suggested article was opened: a deflection (rank and score as shown)."""
        now = self._now()
        self.get_case(case_id)  # CaseNotFound before anything is written
        with self._uow() as uow:
            uow.articles.get(article_id)
            shown = [s for s in uow.kb_log.shown(case_id=case_id)
                     if s.article_id == article_id]
            last = shown[-1] if shown else None
            deflection = Deflection(case_id, article_id, actor.id, now,
                                    last.rank if last else 0, last.score if last else 0.0)
            uow.kb_log.record_opened(deflection)
            uow.commit()
        return deflection

    def mark_resolved_by_article(self, case_id: str, article_id: str, *,
                                 actor: Actor) -> Case:
        """Credit an article with resolving the case (closes the deflection loop)."""

        def command(case: Case, now: datetime) -> None:
            uow: UnitOfWork = self._local.uow
            uow.articles.get(article_id)
            uow.kb_log.record_resolved(ResolvedByArticle(case.id, article_id, now))
            case.record_activity(actor, now, "resolved_by_article", "",
                                 article_id=article_id)

        return self._change(case_id, command)

    def deflection_report(self, *, since: datetime | None = None, until: datetime | None = None,
                          period: Period = "week") -> DeflectionReport:
        """Suggestions shown, opened, open rate, deflection rate, per article, by period."""
        lo = None if since is None else aware_utc(since, "since")
        hi = None if until is None else aware_utc(until, "until")
        with self._uow() as uow:
            shown = uow.kb_log.shown(lo, hi)
            opened = uow.kb_log.opened(lo, hi)
            resolved = uow.kb_log.resolved(lo, hi)
            outcomes: dict[str, tuple[datetime | None, datetime | None]] = {}
            case_ids = ({x.case_id for x in shown} | {x.case_id for x in opened}
                        | {x.case_id for x in resolved})
            for case_id in case_ids:
                try:
                    case = uow.cases.get(case_id)
                except CaseNotFound:
                    continue
                agent_replies = [e.at for e in case.timeline if e.audience is Audience.PUBLIC
                                 and e.actor_kind.value == "agent"]
                outcomes[case_id] = (case.resolved_at, max(agent_replies, default=None))
        return deflection_analytics(shown, opened, outcomes, resolved, period=period)

    # -- SLA --------------------------------------------------------------------------------

    def escalate(self, case_id: str, *, actor: Actor, reason: str = "escalated",
                 expected_version: int | None = None) -> Case:
        """Raise priority to high (an urgent case stays urgent); due times re-derive."""

        def command(case: Case, now: datetime) -> bool:
            target = max(case.priority, Priority.HIGH)
            return case.change_priority(target, actor=actor, at=now, reason=reason)

        return self._change(case_id, command, expected_version)

    def explain_due(self, case_id: str, target: str = "resolution") -> DueExplanation:
        """How the due time of ``target`` follows from start, pauses and calendar, in words."""
        policies = self.settings.sla
        if policies is None:
            raise InvalidConfiguration("SLA clocks are turned off for this tenant (sla=None)")
        case = self.get_case(case_id)
        return explain_due(case, policies.policy_for(case), target, self._now())

    def approaching(self, within: timedelta, *, limit: int = 200) -> list[CaseSummary]:
        """The amber list: active cases whose next SLA due time is within ``within``."""
        now = self._now()
        query = CaseQuery(due_before=now + within, status_categories=_ACTIVE, order="due",
                          limit=limit)
        with self._uow() as uow:
            return list(uow.cases.query(query).items)

    def sweep_breaches(self, *, actor: Actor, notifier: Notifier | None = None,
                       batch: int = 500) -> SweepReport:
        """Record every SLA breach that has happened by now; an admin action.

        Reads only cases whose stored next due time has passed (an index range, so the cost
        follows the number of due cases, not of open cases). For each newly breached target
        it marks the breach, raises the priority one rung (capped at urgent), re-derives the
        due times, writes a system timeline entry and a ``case.sla_breached`` event, and —
        after the commit — notifies the owner and the owner's manager (no owner: the team's
        queue contact, from the :class:`~caselib.routing.Directory`).

        Due cases are handled ``batch`` at a time, one unit of work per batch, walking the
        due cases in due order: the batch is read in one call, decided in memory on the SLA
        part of each case (:class:`~caselib.sla.SlaCase`; through the store's
        :class:`~caselib.ports.SlaSweepRepository` when it has one, so no due case is
        decoded or re-encoded whole), then written, so the store's write lock is held for
        the writes only (a larger batch
        means fewer commits and a longer hold). With a store that declares
        ``units_cross_threads`` (the bundled ones do) each batch commits on a background
        thread while the next is read and decided; other stores do every step on the
        calling thread. ``batch`` must be from 1 to 1000 (``MAX_QUERY_LIMIT``). Idempotent and
        safe to run from several processes: each case is saved with its version check, so when
        two sweepers race for a case, one commits it and the other skips it, re-reads it on
        its next pass, finds the breach recorded and notifies no one. Notifications go out
        only after the commit that recorded the breach (exactly once per breach; a crash
        between commit and notification loses the notification, while the
        ``case.sla_breached`` outbox event is still relayed at least once). A second sweep
        at the same instant changes nothing.
        """
        if not actor.is_admin:
            raise PermissionDenied("the breach sweep is an admin action (give the actor the "
                                   "'admin' role or use Actor.system())")
        if (not isinstance(batch, int) or isinstance(batch, bool)
                or not 1 <= batch <= MAX_QUERY_LIMIT):
            raise InvalidInput(f"batch must be an integer from 1 to {MAX_QUERY_LIMIT} (cases "
                               f"read and written per unit of work), got {batch!r}",
                               field="batch")
        policies = self.settings.sla
        if policies is None:
            raise InvalidConfiguration("SLA clocks are turned off for this tenant (sla=None)")
        now = self._now()
        sweep = _Sweep(notifier)
        first = CaseQuery(due_before=now, status_categories=_ACTIVE, order="due", limit=batch)
        pool = (ThreadPoolExecutor(1, thread_name_prefix="caselib-sweep")
                if units_cross_threads(self.store) else None)
        writing: _Batch | None = None  # the batch whose commit may still be running
        try:
            after: str | None = None
            while True:
                uow = _enter(self._uow())
                work = _Batch(uow)
                try:
                    query = first if after is None else attrs.evolve(first, after=after)
                    parts, next_cursor = sla_parts(uow.cases, query)
                    decided = []
                    for case, whole in sweep.take(parts):
                        loaded = case.version
                        outcome = self._record_breaches(case, now, actor, policies)
                        if outcome is None:
                            sweep.done(case.id)  # nothing to record
                        else:
                            if whole is not None:
                                case.apply_to(whole)
                            decided.append((case if whole is None else whole, loaded, outcome))
                    # one writer at a time: the previous batch's commit ends before this
                    # batch writes (it ran while this batch was read and decided)
                    if writing is not None:
                        sweep.settle(writing)
                        writing = None
                    if work.save(decided):
                        writing = work  # from here the commit owns the unit of work
                        work.start(pool)
                    else:
                        sweep.conflicts += work.conflicts
                        _leave(uow, None)
                except BaseException as err:
                    if writing is not work:
                        _leave(uow, err)
                    raise
                after = next_cursor
                if after is None:  # the end of one pass through the due cases
                    if writing is not None:
                        sweep.settle(writing)
                        writing = None
                    if not sweep.start_pass():
                        break
        except BaseException as err:
            if writing is not None and not writing.settled:
                if not writing.started:
                    _leave(writing.uow, err)
                else:  # its breaches, if it committed, still get their notifications
                    try:
                        sweep.settle(writing)
                    except BaseException as late:
                        if late is not err:
                            err.add_note("The batch committing meanwhile was not settled: "
                                         f"{late!r}")
            raise
        finally:
            if pool is not None:
                pool.shutdown()
        return sweep.report(now)

    def _record_breaches(
        self, case: SlaCase, now: datetime, actor: Actor, policies: SlaPolicies,
    ) -> _Found | None:
        """Mark every newly breached target of ``case`` and escalate; ``None``: nothing to save.

        Marking a breach raises the priority a rung, which re-derives the other targets'
        due times, which may breach them too: repeat at the same instant until nothing new
        breaches, so a second sweep at the same instant finds nothing. Each breach comes
        with the case's subject, which its notifications quote (they are only written out
        when there is a notifier to send them).
        """
        policy = policies.policy_for(case)
        before = [(t.name, t.due_at, t.state) for t in case.sla_targets]
        result = evaluate(case, policy, now)
        found: _Found = []
        for _round in range(8):  # each round marks ≥ 1 of at most three targets
            if not result.newly_breached:
                break
            marked = mark_breached(result, result.newly_breached, now)
            case.sla_targets = list(marked)
            old = case.priority
            recipients = self._breach_recipients(case)
            round_breaches = []
            for name in result.newly_breached:  # one rung per breached target, capped
                target = next(t for t in marked if t.name == name)
                assert target.due_at is not None
                late = target.breached_by_seconds or 0.0
                was, rung = case.priority, case.priority.raise_one_rung()
                text = f"{_label(name)} target breached (due {_minutes(target.due_at)} UTC)"
                if rung is not was:
                    text = f"{text}; priority {was.value} → {rung.value}"
                # one entry for the breach and the rung it raised (see Case.record_breach)
                case.record_breach(name, text, actor=actor, at=now, priority=rung,
                                   breached_by_seconds=late, notified=list(recipients))
                case.emit(SlaBreached(case.id, case.tenant, now, actor.id, name,
                                      target.due_at, late, recipients))
                round_breaches.append((name, target.due_at, late))
            found.extend((BreachNotice(case.id, case.number, name, due, late, old,
                                       case.priority, recipients), case.subject)
                         for name, due, late in round_breaches)
            result = evaluate(case, policy, now)
        case.pauses = list(result.pauses)
        case.sla_targets = list(result.targets)
        if not found and [(t.name, t.due_at, t.state) for t in result.targets] == before:
            return None  # nothing new: write nothing, so a repeat sweep is a no-op
        return found

    def _breach_recipients(self, case: SlaCase) -> tuple[str, ...]:
        """Owner and owner's manager; with no owner, the team's queue contact."""
        people: list[str] = []
        directory = self.directory
        if case.assignee:
            people.append(case.assignee)
            manager = None if directory is None else directory.manager_of(case.assignee)
            if manager:
                people.append(manager)
        elif case.team and directory is not None:
            team = directory.team(case.team)
            if team is not None and team.queue_contact:
                people.append(team.queue_contact)
            if team is not None and team.manager_id:
                people.append(team.manager_id)
        elif case.team:
            people.append(f"queue:{case.team}")
        return tuple(dict.fromkeys(people))


_ACTIVE = (StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.WAITING)
_SWEEP_ATTEMPTS = 5


_Found = list[tuple[BreachNotice, str]]
"""Breaches recorded on a case, each with the case's subject (for its notifications)."""


def _label(target: str) -> str:
    return target.replace("_", " ")


def _minutes(at: datetime) -> str:
    """``f"{at:%Y-%m-%d %H:%M}"`` for a UTC datetime of the years 1000-9999 (every due time
    the sweep meets), from its memoised ISO text."""
    text = to_iso(at)
    return f"{text[:10]} {text[11:16]}"


def _breach_notifications(notice: BreachNotice, subject: str) -> list[Notification]:
    """The messages telling ``notice.notified`` about a breach. The key is the same on
    every attempt, so a notifier can drop a repeat."""
    label, number, due = _label(notice.target), notice.number, notice.due_at
    return [
        Notification(
            who, f"SLA breached: {number} {label}",
            f"{number} '{subject}' missed its {label} target (due {_minutes(due)} UTC); "
            f"priority is now {notice.new_priority.value}.", notice.case_id, "sla_breached",
            f"{notice.case_id}:{notice.target}:{due.isoformat()}:{who}")
        for who in notice.notified
    ]


class _Batch:
    """One batch of the breach sweep: its saves, then its commit.

    The saves run on the sweep's thread. With a thread pool the commit runs there: a SQLite
    commit (the WAL write, a checkpoint) or a PostgreSQL commit round trip releases the GIL
    for its whole length, so the sweep reads and decides the next batch meanwhile. Only the
    commit moves: a statement per case on another thread would wait for the GIL (the
    interpreter's switch interval) after every one of them. Without a pool the commit runs
    at once.
    """

    __slots__ = ("_future", "_outcome", "conflicts", "found", "saved", "settled", "started",
                 "uow")

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.saved: list[str] = []
        self.found: _Found = []
        self.conflicts = 0
        self.started = False  # the commit owns the unit of work from here
        self.settled = False  # waited for, and its outcome counted (see _Sweep.settle)
        self._future: Future[None] | None = None
        self._outcome: BaseException | bool = False  # of a commit run here: True or error

    def save(self, decided: list[tuple[Case | SlaCase, int, _Found]]) -> bool:
        """Save the decided cases into the unit of work (the :class:`SlaCase` ones in one
        call of the store's :class:`~caselib.ports.SlaSweepRepository`); ``False`` when none
        was saved. A case someone else saved first is counted and left for the next pass."""
        cases = self.uow.cases
        parts = [(case, loaded) for case, loaded, _ in decided if isinstance(case, SlaCase)]
        refused = set(cast(SlaSweepRepository, cases).save_sla_cases(parts)) if parts else ()
        for case, loaded, outcome in decided:
            if isinstance(case, SlaCase):
                written = case.id not in refused
            else:
                try:
                    cases.save(case, loaded)
                    written = True
                except ConcurrencyConflict:
                    written = False
            if not written:
                self.conflicts += 1  # someone else saved first; re-read on the next pass
                continue
            self.saved.append(case.id)
            self.found.extend(outcome)
        return bool(self.saved)

    def start(self, pool: ThreadPoolExecutor | None) -> None:
        """Start the commit: on ``pool`` (in the caller's context variables, for hooks an
        adapter runs at commit), or now."""
        self.started = True
        if pool is not None:
            try:
                self._future = pool.submit(contextvars.copy_context().run, _commit, self.uow)
                return
            except RuntimeError:  # the pool takes no work (the interpreter is shutting down)
                pass
        try:
            _commit(self.uow)
        except BaseException as err:
            self._outcome = err  # handed back by outcome(), where the sweep handles it
            if not isinstance(err, Exception):
                raise
        else:
            self._outcome = True

    def outcome(self) -> BaseException | None:
        """Wait for the commit; ``None`` if it committed, else what it raised. (An
        interruption of the waiting itself propagates: the commit may still land.)"""
        if self._future is not None:
            return self._future.exception()
        if isinstance(self._outcome, BaseException):
            return self._outcome
        if self._outcome is not True:
            return StorageError("the batch's commit never ran: the sweep was interrupted")
        return None


def _enter(uow: UnitOfWork) -> UnitOfWork:
    """Enter ``uow`` as its context manager (where an adapter may open its transaction)."""
    entered: UnitOfWork = uow.__enter__()
    return entered


def _leave(uow: UnitOfWork, err: BaseException | None) -> None:
    """Leave ``uow`` as its context manager would be left (rolling back what was not
    committed), with ``err`` as the exception leaving it, if any."""
    if err is None:
        uow.__exit__(None, None, None)
    else:
        uow.__exit__(type(err), err, err.__traceback__)


def _commit(uow: UnitOfWork) -> None:
    """Commit ``uow`` and leave it; a failed commit leaves it with that error."""
    try:
        uow.commit()
    except BaseException as err:
        _leave(uow, err)
        raise
    _leave(uow, None)


class _Sweep:
    """The book-keeping of one :meth:`ServiceDesk.sweep_breaches` run.

    The sweep walks the due cases in due order, one keyset page per batch, so a batch whose
    commit is still running is never read again by the next. Another pass from the start
    follows any pass that took a case: it retries the cases left unfinished (another writer
    saved one first, or it vanished between the query and the read) and finds cases made
    overdue behind the pass. A case is taken at most ``_SWEEP_ATTEMPTS`` times in all.
    """

    def __init__(self, notifier: Notifier | None) -> None:
        self.notifier = notifier
        self.attempts: dict[str, int] = {}
        self.took = False  # this pass took a case
        self.notices: list[BreachNotice] = []
        self.examined = self.conflicts = 0

    def take(self, page: Sequence[tuple[SlaCase, Case | None]]
             ) -> list[tuple[SlaCase, Case | None]]:
        """The cases of ``page`` still to examine (neither done nor given up on)."""
        attempts = self.attempts
        due = [c for c in page if attempts.get(c[0].id, 0) < _SWEEP_ATTEMPTS]
        for case, _ in due:
            attempts[case.id] = attempts.get(case.id, 0) + 1
        self.examined += len(due)
        self.took = self.took or bool(due)
        return due

    def done(self, case_id: str) -> None:
        self.attempts[case_id] = _SWEEP_ATTEMPTS

    def start_pass(self) -> bool:
        """Begin another pass if this one took any case.

        A pass only moves forward through the due order, so besides the cases left
        unfinished, a case that another writer made overdue meanwhile with a due time behind
        the pass's position is only seen by the next pass. Every pass takes each case at
        most once and a case is taken at most ``_SWEEP_ATTEMPTS`` times, so this ends.
        """
        again = self.took
        self.took = False
        return again

    def settle(self, batch: _Batch) -> None:
        """Wait for ``batch`` to be written; then its cases are done and people notified.

        Cases whose save lost a race, or all of them when the commit was refused for a
        conflict (a store that checks versions at commit), stay unfinished, to be re-read by
        the next pass.
        """
        failure = batch.outcome()
        batch.settled = True
        if isinstance(failure, ConcurrencyConflict):
            self.conflicts += batch.conflicts + len(batch.saved)
            return
        if failure is not None:
            raise failure  # the sweep's error now
        self.conflicts += batch.conflicts
        for case_id in batch.saved:
            self.done(case_id)
        for notice, subject in batch.found:
            self.notices.append(notice)
            if self.notifier is not None:
                for message in _breach_notifications(notice, subject):
                    self.notifier.notify(message)

    def report(self, now: datetime) -> SweepReport:
        return SweepReport(now, self.examined, tuple(self.notices), self.conflicts)


_CREATE_ATTEMPTS = 10
