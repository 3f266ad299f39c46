"""How one tenant runs its desk: :class:`TenantSettings` and the router it gets by default.

Separate from the use cases because hosts build settings before any desk exists, and every use
case reads them.
"""

from __future__ import annotations

from typing import Final

import attrs

from caselib.access import AccessPolicy
from caselib.automation import AutomationRule, EscalationLadder
from caselib.cases import CasePolicy, CaseTemplate, ReopenPolicy, Workflow
from caselib.checks import bool_attribute, instance_attribute, require_instances
from caselib.errors import InvalidConfiguration
from caselib.kb import KbSettings
from caselib.reports import View, ViewCatalog
from caselib.routing import FallbackMap, Router
from caselib.sla import SlaPolicies

__all__ = ["TenantSettings", "default_router"]


def _views(value: object) -> ViewCatalog:
    if isinstance(value, ViewCatalog):
        return value
    if isinstance(value, View):
        value = [value]
    return ViewCatalog(value)  # (ViewCatalog checks the type)


_NONE: Final = type(None)


def _workflows(items: object) -> tuple[Workflow, ...]:
    return require_instances(items, "workflows", Workflow, "a list of Workflow values")


def _rules(items: object) -> tuple[AutomationRule, ...]:
    return require_instances(
        items, "automations", AutomationRule, "a list of AutomationRule values")


def _templates(items: object) -> tuple[CaseTemplate, ...]:
    found = require_instances(items, "templates", CaseTemplate, "a list of CaseTemplate values")
    names = [t.name for t in found]
    if len(set(names)) != len(names):
        raise InvalidConfiguration(f"two case templates share a name: {sorted(names)}")
    return found


def _chain_limit(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if type(value) is not int or not 1 <= value <= 20:
        raise InvalidConfiguration(
            f"automation_chain_limit must be a whole number from 1 to 20 (how many "
            f"automations may follow one another from one cause), got {value!r}")


def default_router() -> Router:
    """No tenant rules; reason code first (missing_part → purchasing …), then category
    (Billing → finance, Technical → engineering), else ``support``."""
    return Router(fallbacks=[FallbackMap.by_reason_code(default=None), FallbackMap.by_category()])


@attrs.frozen
class TenantSettings:
    """How one tenant runs its desk: workflow(s), case policy, router, SLA and access.

    ``workflows`` holds extra workflows that existing cases may still follow (a tenant that
    switches from *simple* to a board keeps serving its old cases). ``router`` decides the team
    queue (and maybe an owner) of new cases; ``None`` turns routing off.
    """

    workflow: Workflow = attrs.field(
        factory=Workflow.default, validator=instance_attribute(Workflow, "a Workflow"))
    policy: CasePolicy = attrs.field(
        factory=CasePolicy, validator=instance_attribute(CasePolicy, "a CasePolicy"))
    workflows: tuple[Workflow, ...] = attrs.field(default=(), converter=_workflows)
    router: Router | None = attrs.field(
        factory=default_router, validator=instance_attribute((Router, _NONE), "a Router or None"))
    kb: KbSettings = attrs.field(
        factory=KbSettings, validator=instance_attribute(KbSettings, "a KbSettings"))
    sla: SlaPolicies | None = attrs.field(
        factory=SlaPolicies, validator=instance_attribute((SlaPolicies, _NONE),
                                                          "an SlaPolicies or None"))
    """SLA policies; ``None`` turns SLA clocks off."""
    access: AccessPolicy | None = attrs.field(
        default=None, validator=instance_attribute((AccessPolicy, _NONE),
                                                   "an AccessPolicy or None"))
    """Who may do what (:class:`~caselib.access.AccessPolicy`); ``None`` leaves agents
    unrestricted (:meth:`AccessPolicy.unrestricted`) while customers still reach only their
    own cases' public side."""
    views: ViewCatalog = attrs.field(factory=ViewCatalog, converter=_views)
    """The tenant's own named views beside the built-in queues (a :class:`ViewCatalog`
    or a list of :class:`~caselib.reports.View`), read with :meth:`ServiceDesk.view
    <caselib.desk.ServiceDesk.view>`; each view's filters are checked when the desk is made.

    .. versionadded:: 0.2
    """
    automations: tuple[AutomationRule, ...] = attrs.field(default=(), converter=_rules)
    """The tenant's automation rules (:mod:`caselib.automation`), run by
    :meth:`~caselib.ServiceDesk.run_automations`."""
    automation_chain_limit: int = attrs.field(default=3, validator=_chain_limit)
    """How many automations may follow one another on a case from one cause: an event
    caused by rule A's action that triggers rule B, whose action triggers A again, … Past
    this depth the next rule is not applied; its timeline says so (``automation_stopped``)
    and :meth:`~caselib.ServiceDesk.explain_automation` reports it ``stopped``. Why: a rule
    never re-triggers itself, but two rules that undo each other would ping-pong forever.

    .. versionadded:: 0.3
    """
    escalation: EscalationLadder | None = None
    """The tenant's escalation levels (owner → manager → tier 2 …), each with its notice;
    ``None``: escalation raises the priority to high and numbers the levels ``"1"``, ``"2"``."""

    children_block_parent: bool = attrs.field(
        default=False, validator=bool_attribute)
    """A case cannot be resolved or closed while one of its child cases (``parent_of``
    links, :meth:`~caselib.ServiceDesk.link_cases`) is still active: the resolve is refused
    with :class:`~caselib.errors.GateRequired` (gate ``"children"``) naming the open children.

    .. versionadded:: 0.3
    """
    templates: tuple[CaseTemplate, ...] = attrs.field(default=(), converter=_templates)
    """The tenant's case templates (:class:`~caselib.cases.CaseTemplate`), opened with
    :meth:`~caselib.ServiceDesk.create_from_template`.

    .. versionadded:: 0.3
    """
    reopen: ReopenPolicy = attrs.field(
        factory=ReopenPolicy, validator=instance_attribute(ReopenPolicy, "a ReopenPolicy"))
    """Who may reopen and for how long (:class:`~caselib.cases.ReopenPolicy`): agents
    always; customers inside its grace window, after which a reply opens a follow-up.

    .. versionadded:: 0.3
    """

    def __attrs_post_init__(self) -> None:
        if self.escalation is not None and not isinstance(self.escalation, EscalationLadder):
            from caselib.errors import WrongType

            raise WrongType("escalation", "an EscalationLadder or None", self.escalation)
