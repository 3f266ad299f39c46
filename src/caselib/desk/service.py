"""ServiceDesk: the application layer. One method per use case.

This is the only part of caselib that reads the clock, opens units of work, calls
repositories and publishes events. Each command:

1. opens a unit of work on the desk's tenant and loads the case,
2. runs the domain code (which validates everything before it changes anything),
3. saves with the version it loaded (a concurrent save makes this raise
   :class:`~caselib.errors.ConcurrencyConflict`) and commits case, timeline and outbox
   events together.

A command that raises has written nothing. Commands return the case as saved.

:class:`ServiceDesk` is the facade a host holds: each method hands its arguments to the
use-case module that owns it (:mod:`~caselib.desk.casework`, :mod:`~caselib.desk.triage`,
:mod:`~caselib.desk.knowledge`, :mod:`~caselib.desk.escalation`), over the desk's
:class:`~caselib.desk._context.DeskContext`. The facade owns each signature's defaults; the
use-case functions take every argument explicitly, so a default lives in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, overload

from caselib.access import AccessPolicy, CaseActions
from caselib.automation import AutomationReport, AutomationRule, DeliveryReport, RuleVerdict
from caselib.cases import (
    Actor,
    Case,
    CaseLink,
    Checklist,
    CompiledWorkflow,
    LinkKind,
    Links,
)
from caselib.cases.conversion import Conversion
from caselib.cases.merge import MergedEntry
from caselib.checks import MAX_INT
from caselib.desk import _inputs as check
from caselib.desk import (
    automations,
    casework,
    conversion,
    delivery,
    drafts,
    escalation,
    knowledge,
    listing,
    mail,
    metrics,
    moves,
    portal,
    relations,
    templates,
    triage,
)
from caselib.desk._context import DeskContext
from caselib.desk.breach import SweepReport
from caselib.desk.delivery import DeliveryChannels
from caselib.desk.listing import Board
from caselib.desk.mail import MailOutcome, MailSettings
from caselib.desk.retry import retry_conflicts
from caselib.desk.settings import TenantSettings
from caselib.desk.views import CustomerView
from caselib.kb import (
    Article,
    CategoryMode,
    Deflection,
    DeflectionReport,
    KbIndex,
    Period,
    Suggestion,
)
from caselib.ports import (
    CaseQuery,
    CaseSummary,
    Clock,
    EventSink,
    MailRecord,
    Notifier,
    OpportunityGateway,
    Page,
    Store,
)
from caselib.reports import GroupBy, Scorecard, SummaryCards, View
from caselib.routing import Directory, RouteDecision
from caselib.sla import DueExplanation
from caselib.vocab import Audience, Priority, Severity, Source

__all__ = ["ServiceDesk"]

T = TypeVar("T")


V = TypeVar("V")


def _new_id() -> str:
    return uuid.uuid4().hex


class _OnContext(Generic[V]):
    """A public attribute of the desk that lives on its :class:`DeskContext`.

    Reading and assigning it reads and assigns the context's, so a host that swaps
    ``desk.clock`` (or the store, the directory …) after construction reaches every use
    case, as when these were plain attributes of one class.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, desk: None, owner: type | None = None) -> _OnContext[V]: ...

    @overload
    def __get__(self, desk: ServiceDesk, owner: type | None = None) -> V: ...

    def __get__(
        self, desk: ServiceDesk | None, owner: type | None = None
    ) -> V | _OnContext[V]:
        if desk is None:
            return self
        value: V = getattr(desk._ctx, self._name)
        return value

    def __set__(self, desk: ServiceDesk, value: V) -> None:
        setattr(desk._ctx, self._name, value)


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
        ctx = DeskContext(
            store, tenant=tenant, settings=settings, clock=clock, ids=ids, directory=directory
        )
        self._ctx = ctx

    store: _OnContext[Store] = _OnContext()
    tenant: _OnContext[str] = _OnContext()
    settings: _OnContext[TenantSettings] = _OnContext()
    clock: _OnContext[Clock] = _OnContext()
    directory: _OnContext[Directory | None] = _OnContext()
    workflow: _OnContext[CompiledWorkflow] = _OnContext()
    mail: _OnContext[MailSettings | None] = _OnContext()
    """The e-mail channel (:class:`~caselib.desk.mail.MailSettings`; ``None``: none)."""

    @property
    def access(self) -> AccessPolicy:
        """The access policy this desk enforces: ``settings.access``, or when the tenant set
        none :meth:`AccessPolicy.unrestricted() <caselib.access.AccessPolicy.unrestricted>`.
        Hand it to :func:`caselib.access.case_actions` / :func:`~caselib.access.can_open_cases`
        so a screen offers exactly the buttons whose commands this desk lets through."""
        return self._ctx.access

    @property
    def reporting_zone(self) -> str:
        """The IANA zone this desk's reports count days in (where "resolved today" and the
        scorecard's days begin): the default SLA calendar's, else ``"UTC"``."""
        return metrics.reporting_zone(self._ctx)

    def __repr__(self) -> str:
        return f"<ServiceDesk tenant={self.tenant!r} workflow={self.workflow.name!r}>"

    def for_tenant(self, tenant: str, settings: TenantSettings | None = None) -> ServiceDesk:
        """A desk over the same store and clock for another tenant."""
        return ServiceDesk(
            self.store,
            tenant=tenant,
            settings=self.settings if settings is None else settings,
            clock=self.clock,
            ids=self._ctx.ids,
            directory=self.directory,
        )

    def retrying(self, command: Callable[[], T], *, attempts: int = 5) -> T:
        """Run ``command`` again when it loses a race (:class:`ConcurrencyConflict`).

        Commands reload the case each time, and a command that raised a conflict wrote
        nothing, so retrying is safe whenever applying the command to the newer state is
        what you want (adding a comment, assigning, changing priority). Do not wrap a command
        that passes ``expected_version`` from a form: that conflict is for the user to see.
        Between attempts it pauses a random time whose cap doubles from 2 ms to 250 ms
        (jittered backoff, :func:`~caselib.desk.retry.retry_conflicts`). A single command
        without ``expected_version`` does not need it: it waits its turn on the case instead.

        >>> desk.retrying(lambda: desk.add_comment(cid, "On it", actor=ana))  # doctest: +SKIP
        """
        check.callable_(command, "command")
        check.count(attempts, "attempts", 1, MAX_INT)
        return retry_conflicts(command, attempts=attempts)

    # -- queries ----------------------------------------------------------------------------

    def get_case(self, case_id: str, *, actor: Actor) -> Case:
        """Load one case whole (internal notes included) for an actor with ``service.read``
        on it; :class:`~caselib.errors.CaseNotFound` if it is not in this tenant or outside
        the actor's scope. Customers use :meth:`customer_view`."""
        return casework.get_case(self._ctx, case_id, actor=actor)

    def get_case_by_number(self, number: str, *, actor: Actor) -> Case:
        """Load one case by its human number (``CASE-0042``, in any letter case), as
        :meth:`get_case`."""
        return casework.get_case_by_number(self._ctx, number, actor=actor)

    def find_cases(self, query: CaseQuery | None = None, *, actor: Actor,
                   **filters: Any) -> Page:
        """Summaries of the cases matching a :class:`~caselib.ports.CaseQuery` (or its fields
        as kwargs) among those ``actor`` may read: exactly the cases :meth:`get_case` allows."""
        return casework.find_cases(self._ctx, query, actor=actor, **filters)

    def create_from_template(self, template: str, *, subject: str, actor: Actor,
                             **fields: Any) -> Case:
        """Open a case from one of the tenant's :attr:`TenantSettings.templates
        <caselib.desk.TenantSettings.templates>`: its fields pre-filled (``fields``, any
        :meth:`create_case` argument, override them; ``custom`` is merged) and its checklist
        copied on, in one unit of work. See ``docs/relations.md``.

        .. versionadded:: 0.3
        """
        return templates.create_from_template(self._ctx, template, subject=subject,
                                              actor=actor, fields=fields)

    def check_item(self, case_id: str, item: str, *, actor: Actor, done: bool = True,
                   expected_version: int | None = None) -> Case:
        """Check (or, ``done=False``, uncheck) a checklist item: a system entry with who and
        when; doing it twice changes nothing.

        .. versionadded:: 0.3
        """
        return templates.check_item(self._ctx, case_id, item, done=done, actor=actor,
                                    expected_version=expected_version)

    def checklist(self, case_id: str, *, actor: Actor) -> Checklist:
        """The case's checklist: its items and which are done, by whom and when.

        .. versionadded:: 0.3
        """
        return templates.checklist(self._ctx, case_id, actor=actor)

    def convert(self, case_id: str, target: str = "opportunity", *, actor: Actor,
                gateway: OpportunityGateway) -> Conversion:
        """Convert the case into a host record (``"opportunity"``, ``"supplier_return"`` …)
        through ``gateway``: the request is saved first (timeline entry, outbox event), then
        the host is asked, with a fixed idempotency key. Converting again returns the first
        conversion; if the host fails, the conversion stays pending (``record_id`` None) and
        :meth:`deliver_pending` with ``DeliveryChannels(conversions=…)`` or the next
        ``convert`` retries it. See ``docs/relations.md``.

        .. versionadded:: 0.3
        """
        return conversion.convert(self._ctx, case_id, target, actor=actor, gateway=gateway)

    def conversions(self, case_id: str, *, actor: Actor) -> list[Conversion]:
        """The case's conversions (requested and done), from its timeline.

        .. versionadded:: 0.3
        """
        return conversion.conversions(self._ctx, case_id, actor=actor)

    def customer_reply(self, case_id: str, body: str, *, actor: Actor) -> Case:
        """A customer's reply, under the tenant's reopen policy
        (:attr:`TenantSettings.reopen <caselib.desk.TenantSettings.reopen>`): lands on the
        survivor of a merged case; reopens a resolved case inside the grace window; past it,
        closes the case and opens a linked follow-up carrying its context. Returns the case
        the reply landed on. Mail ingest follows the same policy for a customer's mail
        (:meth:`ingest_mail`). A reply that is no valid comment (empty, too long) is
        refused before anything changes.

        .. versionadded:: 0.3
        """
        return relations.customer_reply(self._ctx, case_id, body, actor=actor)

    def merge(self, source: str, survivor: str, *, actor: Actor) -> Case:
        """Merge ``source`` into ``survivor`` (``service.write`` on both): the source closes
        into the status ``merged`` (left out of SLA and every metric), linked
        ``merged_into`` the survivor; its entries show in :meth:`merged_timeline` of the
        survivor, and replies to it land there (:func:`caselib.desk.relations.survivor_of`).
        Returns the source. See ``docs/relations.md``.

        .. versionadded:: 0.3
        """
        return relations.merge(self._ctx, source, survivor, actor=actor)

    def unmerge(self, source: str, *, actor: Actor) -> Case:
        """Undo a merge from the source's merge journal: its status comes back (no reopen
        counted), the link goes, the survivor is as it was.

        .. versionadded:: 0.3
        """
        return relations.unmerge(self._ctx, source, actor=actor)

    def split(self, source: str, seqs: list[int], *, subject: str, actor: Actor) -> Case:
        """A new case made of the chosen comments (timeline ``seq`` numbers) of ``source``,
        keeping its contact, account, category and priority, linked ``split_from`` it.

        .. versionadded:: 0.3
        """
        return relations.split(self._ctx, source, seqs, subject=subject, actor=actor)

    def merged_timeline(self, case_id: str, *, actor: Actor) -> list[MergedEntry]:
        """The case's timeline with the entries of the cases merged into it, each marked
        with its origin (a customer reads public entries only).

        .. versionadded:: 0.3
        """
        return relations.merged_timeline(self._ctx, case_id, actor=actor)

    def link_cases(self, source: str, kind: LinkKind | str, target: str, *,
                   actor: Actor) -> CaseLink:
        """Link two cases of the tenant: ``source`` *kind* ``target`` (``parent_of``,
        ``related``, ``duplicate_of``, ``follow_up_of``, ``split_from``), listed on both
        with a system entry on each (``service.write`` on both). Linking twice returns the
        first link. ``merged_into`` is :meth:`merge`'s alone
        (:class:`~caselib.errors.InvalidInput` here). See ``docs/relations.md``.

        .. versionadded:: 0.3
        """
        return relations.link_cases(self._ctx, source, kind, target, actor=actor)

    def unlink_cases(self, source: str, kind: LinkKind | str, target: str, *,
                     actor: Actor) -> bool:
        """Remove a link (``False`` if there was none).

        .. versionadded:: 0.3
        """
        return relations.unlink_cases(self._ctx, source, kind, target, actor=actor)

    def case_links(self, case_id: str, *, actor: Actor) -> list[CaseLink]:
        """The case's links in both directions (:meth:`CaseLink.role_for
        <caselib.cases.CaseLink.role_for>` names each as this case reads it), those whose
        other case ``actor`` may read as well.

        .. versionadded:: 0.3
        """
        return relations.links_of(self._ctx, case_id, actor=actor)

    def related_cases(self, case_id: str, *, actor: Actor) -> list[tuple[str, CaseSummary]]:
        """:meth:`case_links` as ``(role, summary)`` pairs: each linked case's number,
        subject and status read in one batch (a "Related cases" panel without a read per
        link); cases ``actor`` may not read are left out.

        .. versionadded:: 0.3
        """
        return relations.related_cases(self._ctx, case_id, actor=actor)

    def count_cases(self, query: CaseQuery | None = None, *, actor: Actor,
                    **filters: Any) -> int:
        """How many cases match a :class:`~caselib.ports.CaseQuery` (or its fields as
        kwargs) among those ``actor`` may read: the total beside a :meth:`find_cases` list,
        counted by the store (``COUNT(*)`` in SQL) without reading the rows. Paging fields
        are ignored.

        .. versionadded:: 0.2
        """
        return casework.count_cases(self._ctx, query, actor=actor, **filters)

    def cards(self, query: object = None, *, actor: Actor) -> SummaryCards:
        """Summary cards (open, critical, resolved today, avg / median first response, CSAT
        share) of a :class:`~caselib.ports.CaseQuery` or view, over the cases ``actor`` may
        read; computed by the store. See ``docs/metrics.md``.

        .. versionadded:: 0.2
        """
        return metrics.cards(self._ctx, query, actor=actor)

    def scorecard(self, *, start: datetime, end: datetime, group_by: GroupBy = "none",
                  actor: Actor, query: object = None) -> Scorecard:
        """The service-desk scorecard of ``[start, end)`` grouped by none / team /
        assignee / priority / category / channel, over the cases ``actor`` may read
        (``service.read``), computed by the store. See ``docs/metrics.md``.

        .. versionadded:: 0.2
        """
        return metrics.scorecard(self._ctx, start=start, end=end, group_by=group_by,
                                 actor=actor, query=query)

    def last_days(self, days: int = 30) -> tuple[datetime, datetime]:
        """The period ``(start, end)`` of the last ``days`` whole days, today included, for
        :meth:`scorecard`: days begin at midnight in the desk's reporting zone (the default
        SLA calendar's, else UTC) and "today" is the desk clock's, exactly as
        ``caselib report --days N`` reads it. ``days`` is 1 to 400.
        """
        return metrics.last_days(self._ctx, days)

    def count_by_status(self, query: CaseQuery | None = None, *,
                        actor: Actor) -> dict[str, int]:
        """Open board columns: ``{status: count}`` for the cases matching ``query`` that
        ``actor`` may read."""
        return casework.count_by_status(self._ctx, query, actor=actor)

    def view(self, name_or_view: str | View, *, actor: Actor, after: str | None = None,
             limit: int = 50) -> Page:
        """One page of a named view (``"open"``, ``"unassigned"``, ``"mine"``,
        ``"resolved"``, ``"inbox"``, a tenant's own from :attr:`TenantSettings.views`) or of
        a :class:`~caselib.reports.View`, among the cases ``actor`` may read. An unknown
        name is :class:`~caselib.errors.UnknownValue` listing the known ones; a cursor from
        another view is refused (``after``).

        .. versionadded:: 0.2
        """
        return listing.view(self._ctx, name_or_view, actor=actor, after=after, limit=limit)

    def inbox(self, *, actor: Actor, after: str | None = None, limit: int = 50,
              text: str | None = None) -> Page:
        """``actor``'s inbox: active cases assigned to them or unassigned in one of their
        teams (``Actor.teams``), oldest first, optionally narrowed by a text search; one
        query and one cursor.

        .. versionadded:: 0.2
        """
        return listing.inbox(self._ctx, actor=actor, after=after, limit=limit, text=text)

    def board(self, query_or_view: CaseQuery | View | str | None = None, *, actor: Actor,
              cards_per_column: int = 10) -> Board:
        """A kanban board: per status of the workflow (in its order) that the view admits,
        the count and the first ``cards_per_column`` cards; the default view is the active
        cases, most recently changed first (:data:`caselib.reports.BOARD`).

        .. versionadded:: 0.2
        """
        return listing.board(self._ctx, query_or_view, actor=actor,
                             cards_per_column=cards_per_column)

    def allowed_transitions(self, case: Case, *, actor: Actor | None = None) -> tuple[str, ...]:
        """Statuses ``case`` can move to next (for building buttons); with ``actor``, only
        those the actor may make (resolving and closing need ``service.resolve``)."""
        return moves.allowed_transitions(self._ctx, case, actor=actor)

    def allowed_transitions_of(self, summaries: Iterable[CaseSummary], *,
                               actor: Actor | None = None) -> dict[str, tuple[str, ...]]:
        """:meth:`allowed_transitions` of list rows or board cards, by case id, read from the
        summaries without loading the cases (unless two workflows disagree on a status).

        .. versionadded:: 0.3
        """
        return moves.allowed_transitions_of(self._ctx, summaries, actor=actor)

    def note_moves_of(self, summaries: Iterable[CaseSummary], *,
                      actor: Actor | None = None) -> dict[str, frozenset[str]]:
        """Of :meth:`allowed_transitions_of`'s moves, by case id, those gated on a note (into
        resolved or closed, and any the workflow gates so): a quick-move control with no note
        field leaves them to the case page's forms. Agrees with :meth:`case_actions`.

        .. versionadded:: 0.3
        """
        return moves.note_moves_of(self._ctx, summaries, actor=actor)

    def case_actions(self, case: Case, *, actor: Actor) -> CaseActions:
        """The forms a case page offers ``actor`` on the loaded ``case``: the access checks of
        :func:`caselib.access.case_actions` plus, from the case's workflow, the statuses
        ``resolve`` / ``close`` / ``reopen`` would move it to (by category, never by status
        name), their gates and the remaining moves. Reads nothing.

        .. versionadded:: 0.3
        """
        return moves.case_actions(self._ctx, case, actor=actor)

    def customer_view(self, case_id: str, *, actor: Actor) -> CustomerView:
        """The case as its customer may see it: public replies only, redactions blanked.

        A customer reaches only its own cases (contact or account); agents need
        ``service.read`` on the case."""
        return casework.customer_view(self._ctx, case_id, actor=actor)

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
        return casework.create_case(
            self._ctx,
            subject=subject,
            actor=actor,
            description=description,
            priority=priority,
            severity=severity,
            case_type=case_type,
            category=category,
            subcategory=subcategory,
            reason_code=reason_code,
            source=source,
            links=links,
            tags=tags,
            custom=custom,
            assignee=assignee,
            team=team,
        )

    # -- routing and assignment -------------------------------------------------------------

    @staticmethod
    def routing_facts(case: Case) -> dict[str, object]:
        """What routing rules see of a case (see :data:`caselib.routing.ROUTABLE_FIELDS`)."""
        return triage.routing_facts(case)

    def route_preview(self, fields: Mapping[str, object]) -> RouteDecision:
        """What routing would decide for a case with these fields, creating nothing.

        ``fields`` uses the routing fact names (``category``, ``reason_code``, ``tier``,
        ``custom.<name>`` …) or create_case's keywords, normalised exactly as create_case
        does (:func:`caselib.desk.triage.preview_fields`); admin UIs show the decision's
        ``text`` to explain it.
        """
        return triage.route_preview(self._ctx, fields)

    def reroute(
        self,
        case_id: str,
        *,
        actor: Actor,
        force: bool = False,
        expected_version: int | None = None,
    ) -> Case:
        """Route the case again (after its category or reason code changed).

        A case assigned by hand is sticky and left alone unless ``force`` is true.
        """
        return triage.reroute(
            self._ctx, case_id, actor=actor, force=force, expected_version=expected_version
        )

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
        return casework.add_comment(
            self._ctx,
            case_id,
            body,
            actor=actor,
            audience=audience,
            expected_version=expected_version,
        )

    def redact_comment(
        self,
        case_id: str,
        seq: int,
        *,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Case:
        """Blank a wrong comment's text; the entry, its audience and the redaction stay."""
        return casework.redact_comment(
            self._ctx, case_id, seq, reason=reason, actor=actor, expected_version=expected_version
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
        return casework.transition(
            self._ctx,
            case_id,
            to,
            actor=actor,
            note=note,
            resolution_code=resolution_code,
            expected_version=expected_version,
        )

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
        return casework.resolve(
            self._ctx, case_id, summary, actor=actor, code=code, expected_version=expected_version
        )

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
        return casework.close(
            self._ctx, case_id, note, actor=actor, csat=csat, expected_version=expected_version
        )

    def reopen(
        self,
        case_id: str,
        *,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Send a resolved or closed case back to work; earlier resolutions are kept."""
        return casework.reopen(
            self._ctx, case_id, actor=actor, reason=reason, expected_version=expected_version
        )

    def rate(
        self,
        case_id: str,
        score: int,
        *,
        actor: Actor,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Record CSAT 1–5 on a resolved or closed case."""
        return casework.rate(
            self._ctx,
            case_id,
            score,
            actor=actor,
            comment=comment,
            expected_version=expected_version,
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
        return casework.assign(
            self._ctx,
            case_id,
            actor=actor,
            assignee=assignee,
            team=team,
            keep_team=keep_team,
            expected_version=expected_version,
        )

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
        return casework.change_priority(
            self._ctx,
            case_id,
            priority,
            actor=actor,
            reason=reason,
            expected_version=expected_version,
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
        return casework.update_fields(
            self._ctx,
            case_id,
            changes,
            actor=actor,
            force_reroute=force_reroute,
            expected_version=expected_version,
        )

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
        return casework.add_attachment(
            self._ctx,
            case_id,
            actor=actor,
            name=name,
            content_type=content_type,
            size=size,
            sha256=sha256,
            storage_key=storage_key,
            expected_version=expected_version,
        )

    # -- e-mail (caselib.desk.mail) ----------------------------------------------------------

    def ingest_mail(self, raw: bytes, *, mail_settings: MailSettings | None = None
                    ) -> MailOutcome:
        """Take one inbound message (its bytes as received): a reply on its case, a held
        entry, a reopen, a new case, or nothing (automatic mail, a refused token), exactly
        once per ``Message-ID``. See :mod:`caselib.desk.mail`."""
        return mail.ingest_mail(self._ctx, raw, settings=mail_settings)

    def reply_by_mail(self, case_id: str, body: str, *, actor: Actor,
                      mail_settings: MailSettings | None = None) -> Case:
        """Add a public reply and queue it to the contact as a threaded e-mail from the
        support address (sent by :meth:`deliver_pending`)."""
        return mail.reply_by_mail(self._ctx, case_id, body, actor=actor,
                                  settings=mail_settings)

    def mail_thread(self, case_id: str, *, actor: Actor) -> list[MailRecord]:
        """The case's e-mails in and out, oldest first (agents: ``service.read``).

        .. versionadded:: 0.3
        """
        return mail.mail_thread(self._ctx, case_id, actor=actor)

    def approve_held_mail(self, case_id: str, seq: int, *, actor: Actor) -> Case:
        """Post the held mail at timeline entry ``seq`` as its sender's public reply."""
        return mail.approve_held_mail(self._ctx, case_id, seq, actor=actor)

    # -- events -----------------------------------------------------------------------------

    def dispatch_events(self, sink: EventSink, *, limit: int = 100) -> int:
        """Relay up to ``limit`` (1 to 1000) pending outbox events to ``sink``, at least once;
        returns how many.

        Each message is marked delivered only after ``sink.publish`` returned. If the sink
        raises, the messages published before it stay delivered, the failing one stays
        pending for the next call, and the error propagates.
        """
        return casework.dispatch_events(self._ctx, sink, limit=limit)

    # -- knowledge base ---------------------------------------------------------------------

    def kb_index(self) -> KbIndex:
        """The tenant's article index, built from the article store on first use.

        The index lives in this desk's memory. Before each use it reads the store's article
        stamp (one small read); when another process put or removed articles since, it
        catches up with those changes only (see docs/kb.md).
        """
        return knowledge.kb_index(self._ctx)

    def reload_kb(self) -> KbIndex:
        """Rebuild the index from the article store from scratch (also drops dead slots)."""
        return knowledge.reload_kb(self._ctx)

    def put_article(self, article: Article, *, actor: Actor) -> Article:
        """Create or replace a knowledge-base article (needs ``service.admin``)."""
        return knowledge.put_article(self._ctx, article, actor=actor)

    def remove_article(self, article_id: str, *, actor: Actor) -> None:
        """Delete an article (needs ``service.admin``; suggestion and deflection history
        stays)."""
        knowledge.remove_article(self._ctx, article_id, actor=actor)

    def get_article(self, article_id: str, *, actor: Actor) -> Article:
        """One article from the store; customers get published articles only."""
        return knowledge.get_article(self._ctx, article_id, actor=actor)

    def suggest_articles(
        self,
        case_id: str,
        *,
        actor: Actor,
        limit: int = 5,
        category_mode: CategoryMode = "boost",
        record: bool = True,
    ) -> list[Suggestion]:
        """Published articles scored against the case, best first; logs the articles shown
        on the case for the first time (``record=False`` for a preview that the customer does
        not see), so a page that suggests on every view may reload freely.

        The query is built only from what the customer can see (subject, description,
        category, latest public replies), so a suggestion never leaks an internal note.
        """
        return knowledge.suggest_articles(
            self._ctx, case_id, actor=actor, limit=limit, category_mode=category_mode,
            record=record,
        )

    def open_article(self, case_id: str, article_id: str, *, actor: Actor) -> Deflection:
        """Record that a suggested article was opened: a deflection (rank and score as shown)."""
        return knowledge.open_article(self._ctx, case_id, article_id, actor=actor)

    def mark_resolved_by_article(self, case_id: str, article_id: str, *, actor: Actor) -> Case:
        """Credit an article with resolving the case (closes the deflection loop)."""
        return knowledge.mark_resolved_by_article(self._ctx, case_id, article_id, actor=actor)

    def deflection_report(
        self,
        *,
        actor: Actor,
        since: datetime | None = None,
        until: datetime | None = None,
        period: Period = "week",
    ) -> DeflectionReport:
        """Suggestions shown, opened, open rate, deflection rate, per article, by period;
        cases and portal visits (self-service records) both count (needs ``service.read``)."""
        return knowledge.deflection_report(self._ctx, actor=actor, since=since, until=until,
                                           period=period)

    def suggest_for_text(
        self,
        subject: str,
        description: str = "",
        *,
        actor: Actor,
        visit: str,
        category: str | None = None,
        limit: int = 5,
        category_mode: CategoryMode = "boost",
        record: bool = True,
    ) -> list[Suggestion]:
        """Articles for a portal form before a case exists (deflection at the door).

        ``visit`` is the host's id of the form session: the suggestions shown are logged
        under it (unless ``record=False``), :meth:`open_portal_article` records an opening,
        and :meth:`record_self_service` turns an opening followed by no case into a
        self-service record. The subject weighs double, as for a case.
        """
        return portal.suggest_for_text(
            self._ctx, subject, description, actor=actor, visit=visit, category=category,
            limit=limit, category_mode=category_mode, record=record,
        )

    def customer_cases(self, *, actor: Actor, after: str | None = None,
                       limit: int = 50) -> Page:
        """A customer's own cases, newest first (the portal's list): exactly those
        :meth:`customer_view` opens for it. Show each row's number, subject, status and
        dates; open one with :meth:`customer_view` (public replies only).

        .. versionadded:: 0.2
        """
        return portal.customer_cases(self._ctx, actor=actor, after=after, limit=limit)

    def open_portal_article(self, visit: str, article_id: str, *, actor: Actor) -> Deflection:
        """Record that a portal visitor opened a suggested article."""
        return portal.open_portal_article(self._ctx, visit, article_id, actor=actor)

    def record_self_service(
        self,
        *,
        actor: Actor,
        within: timedelta = timedelta(hours=24),
        lookback: timedelta = timedelta(days=7),
    ) -> int:
        """Write a self-service record for each portal visit that opened an article and whose
        visitor filed no case within ``within``; run it from a scheduler (idempotent).

        Only visits whose first opening is between ``within`` and ``within + lookback`` old
        are examined; the visitor is matched by actor id against the cases created in the
        window. Returns how many records were written.
        """
        return portal.record_self_service(self._ctx, within=within, lookback=lookback,
                                          actor=actor)

    def draft_article(
        self,
        case_id: str,
        *,
        actor: Actor,
        names: Iterable[str] = (),
        article_id: str | None = None,
    ) -> Article:
        """An unpublished article draft from a resolved case, with personal data removed.

        Built from the subject, description, public replies and latest resolution (never
        internal notes). E-mail addresses, phone numbers, order numbers, the case's
        custom-field values and link ids are replaced by placeholders; caselib stores no
        names, so pass the contact's and account's names as ``names``. Not saved: review it,
        then :meth:`put_article`. See :class:`~caselib.kb.Redactor` for the rules.
        """
        return drafts.draft_article(self._ctx, case_id, actor=actor, names=names,
                                    article_id=article_id)

    # -- SLA --------------------------------------------------------------------------------

    def escalate(
        self,
        case_id: str,
        *,
        actor: Actor,
        reason: str | None = "escalated",
        expected_version: int | None = None,
        to_team: str | None = None,
        to_level: str | None = None,
    ) -> Case:
        """Move the case one escalation level up (or to ``to_level`` / the level of
        ``to_team``): the priority rises to the level's floor (high by default; an urgent
        case stays urgent), the level's team (or ``to_team``) takes it, the level's people
        are told after the commit (:meth:`deliver_pending`). Always recorded: a timeline
        entry with the levels left and reached, a ``case.escalated`` event; the case shows
        its level in ``escalation_level``. Without the tenant's ladder
        (``TenantSettings.escalation``) levels are numbered and nobody is told."""
        return escalation.escalate(self._ctx, case_id, actor=actor, reason=reason,
                                   expected_version=expected_version, to_team=to_team,
                                   to_level=to_level)

    def explain_due(self, case_id: str, target: str = "resolution", *,
                    actor: Actor) -> DueExplanation:
        """How the due time of ``target`` follows from start, pauses and calendar, in words."""
        return escalation.explain_due(self._ctx, case_id, target, actor=actor)

    def explain_dues(self, case: Case, *, actor: Actor) -> dict[str, DueExplanation]:
        """:meth:`explain_due` of every SLA target of the loaded ``case`` (a page's badges),
        by target name, without reading the case again; empty when SLA clocks are off.

        .. versionadded:: 0.3
        """
        return escalation.explain_dues(self._ctx, case, actor=actor)

    def approaching(self, within: timedelta, *, actor: Actor,
                    limit: int = 200) -> list[CaseSummary]:
        """The amber list: active cases ``actor`` may read whose next SLA due time is within
        ``within``."""
        return escalation.approaching(self._ctx, within, limit=limit, actor=actor)

    def sweep_breaches(
        self, *, actor: Actor, notifier: Notifier | None = None, batch: int = 500
    ) -> SweepReport:
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
        return escalation.sweep_breaches(self._ctx, actor=actor, notifier=notifier, batch=batch)

    # -- automations (caselib.desk.automations, caselib.desk.delivery) ----------------------

    def automation_rules(self) -> tuple[AutomationRule, ...]:
        """The tenant's automation rules, in order."""
        return automations.automation_rules(self._ctx)

    def set_automation_rules(self, rules: Sequence[AutomationRule | Mapping[str, Any]], *,
                             actor: Actor) -> tuple[AutomationRule, ...]:
        """Replace the rules (``service.admin``); all are validated before any is used."""
        return automations.set_automation_rules(self._ctx, rules, actor=actor)

    def enable_automation_preset(self, name: str, *, actor: Actor, **settings: Any
                                 ) -> AutomationRule:
        """Turn on one of :data:`caselib.automation.PRESETS` (``service.admin``)."""
        return automations.enable_preset(self._ctx, name, actor=actor, **settings)

    def run_automations(self, now: datetime | None = None, *, batch: int = 200
                        ) -> AutomationReport:
        """Apply event rules to the events written since the last run, then the time rules
        due by ``now``, each (rule, case, occurrence) exactly once; safe to run from several
        processes, and a second run at the same instant does nothing."""
        return automations.run_automations(self._ctx, now, batch=batch)

    def deliver_pending(self, channels: DeliveryChannels, *, limit: int = 100
                        ) -> DeliveryReport:
        """Send what committed automations queued (and relay other events to
        ``channels.events``), at least once with stable idempotency keys."""
        return delivery.deliver_pending(self._ctx, channels, limit=limit)

    def explain_automation(self, case_id: str, *, actor: Actor) -> list[RuleVerdict]:
        """Which rules fired on the case and when, and why the others did not."""
        return automations.explain_automation(self._ctx, case_id, actor=actor)
