"""Routing and assignment wired into ServiceDesk: create, re-route, sticky, strategies."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import READER
from caselib import (
    Actor,
    BranchRouting,
    InvalidConfiguration,
    InvalidInput,
    MemoryStore,
    ServiceDesk,
    TenantSettings,
    UnknownValue,
    Vocabulary,
)
from caselib.desk import default_router
from caselib.routing import Agent, Router, RuleSet, StaticDirectory, Team, branch_manager_of
from caselib.testing import FrozenClock
from caselib.vocab import DEFAULT_CATEGORIES, DEFAULT_REASON_CODES


def desk_with(clock: FrozenClock, *, rules: list[dict[str, object]] | None = None,
              directory: StaticDirectory | None = None) -> ServiceDesk:
    settings = TenantSettings()
    if rules is not None:
        base = settings.router
        assert base is not None
        settings = TenantSettings(router=Router(RuleSet.from_dicts(rules), base.fallbacks))
    return ServiceDesk(MemoryStore(), clock=clock, settings=settings, directory=directory)


class TestRoutingOnCreate:
    """Every new case lands in a queue, with the reason on its timeline."""

    @pytest.mark.parametrize(("fields", "team"), [
        ({"category": "Billing"}, "finance"),
        ({"category": "Technical"}, "engineering"),
        ({"category": "Account"}, "support"),
        ({}, "support"),
        ({"reason_code": "missing_part"}, "purchasing"),
        ({"reason_code": "wrong_item", "category": "Billing"}, "warehouse"),
        ({"reason_code": "site_not_ready"}, "branch_manager"),
        ({"reason_code": "access_issue"}, "branch_manager"),
        ({"reason_code": "damaged", "category": "Technical"}, "engineering"),
    ])
    def test_fallback_maps(self, clock: FrozenClock, agent: Actor, fields: dict[str, str],
                           team: str) -> None:
        """Default router: reason-code map, then category map, else support."""
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, **fields)
        assert case.team == team and case.assignee is None
        routed = next(e for e in case.timeline if e.kind == "routed")
        assert routed.body and routed.data["decision"]["team"] == team
        assert not case.assigned_manually

    def test_tenant_rules_win(self, clock: FrozenClock, agent: Actor) -> None:
        """A matching tenant rule beats the fallback maps and may name an owner."""
        desk = desk_with(clock, rules=[{
            "id": "gold-billing",
            "when": {"all": [{"field": "category", "equals": "billing"},
                             {"field": "tier", "equals": "gold"}]},
            "then": {"team": "vip_finance", "owner": "fatima"}}])
        gold = desk.create_case(subject="x", actor=agent, category="Billing",
                                custom={"tier": "gold"})
        plain = desk.create_case(subject="y", actor=agent, category="Billing")
        assert (gold.team, gold.assignee) == ("vip_finance", "fatima")
        assert "gold-billing" in next(e for e in gold.timeline if e.kind == "routed").body
        assert (plain.team, plain.assignee) == ("finance", None)

    def test_explicit_assignment_skips_routing(self, clock: FrozenClock, agent: Actor) -> None:
        """A case created with a team or assignee is assigned by hand, not routed."""
        case = desk_with(clock).create_case(subject="x", actor=agent, category="Billing",
                                            team="frontline")
        assert case.team == "frontline" and case.assigned_manually
        assert not any(e.kind == "routed" for e in case.timeline)

    def test_route_preview_creates_nothing(self, clock: FrozenClock) -> None:
        """route_preview explains a decision without writing."""
        desk = desk_with(clock)
        decision = desk.route_preview({"reason_code": "wrong_item"})
        assert decision.team == "warehouse" and "wrong_item" in decision.text
        assert desk.count_by_status(actor=READER) == {}

    def test_routing_off(self, clock: FrozenClock, agent: Actor) -> None:
        """router=None leaves new cases unqueued and preview refuses."""
        desk = ServiceDesk(MemoryStore(), clock=clock, settings=TenantSettings(router=None))
        assert desk.create_case(subject="x", actor=agent).team is None
        with pytest.raises(InvalidConfiguration):
            desk.route_preview({})


class TestReRouting:
    """Category or reason-code changes re-route, except sticky manual assignments."""

    def test_reroute_on_category_change(self, clock: FrozenClock, agent: Actor) -> None:
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, category="Account")
        case = desk.update_fields(case.id, {"category": "Billing"}, actor=agent)
        assert case.team == "finance"

    def test_manual_assignment_is_sticky(self, clock: FrozenClock, agent: Actor) -> None:
        """A hand-assigned case keeps its queue unless re-routing is forced."""
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, category="Account")
        case = desk.assign(case.id, assignee="bo", team="escalations", actor=agent)
        case = desk.update_fields(case.id, {"category": "Billing"}, actor=agent)
        assert (case.team, case.assignee) == ("escalations", "bo")
        case = desk.update_fields(case.id, {"reason_code": "missing_part"}, actor=agent,
                                  force_reroute=True)
        assert case.team == "purchasing" and not case.assigned_manually

    def test_reroute_command(self, clock: FrozenClock, agent: Actor) -> None:
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, category="Billing", team="other")
        assert desk.reroute(case.id, actor=agent).team == "other"
        assert desk.reroute(case.id, actor=agent, force=True).team == "finance"


def directory(strategy: str, *, away: frozenset[str] = frozenset(),
              capacity: int | None = None) -> StaticDirectory:
    agents = [Agent(a, a.title(), away=a in away, capacity=capacity,
                    skills=frozenset({"sap"}) if a == "cy" else frozenset())
              for a in ("ann", "bob", "cy")]
    team = Team("finance", "Finance", strategy, members=("ann", "bob", "cy"),
                queue_contact="lead@example.com", manager_id="mgr")
    return StaticDirectory([team], agents)


class TestAssignmentInTeams:
    """Team strategies assign new cases through the Directory port."""

    def test_round_robin_is_fair(self, clock: FrozenClock, agent: Actor) -> None:
        desk = desk_with(clock, directory=directory("round_robin"))
        owners = Counter(desk.create_case(subject=f"c{i}", actor=agent,
                                          category="Billing").assignee for i in range(10))
        assert sorted(owners.values()) == [3, 3, 4]

    def test_away_agent_never_assigned(self, clock: FrozenClock, agent: Actor) -> None:
        desk = desk_with(clock, directory=directory("round_robin", away=frozenset({"bob"})))
        owners = {desk.create_case(subject=f"c{i}", actor=agent, category="Billing").assignee
                  for i in range(6)}
        assert owners == {"ann", "cy"}

    def test_least_loaded_with_capacity(self, clock: FrozenClock, agent: Actor) -> None:
        """Capacity is never exceeded; past it, cases stay in the queue with a reason."""
        desk = desk_with(clock, directory=directory("least_loaded", capacity=1))
        cases = [desk.create_case(subject=f"c{i}", actor=agent, category="Billing")
                 for i in range(4)]
        assert sorted(c.assignee or "-" for c in cases) == ["-", "ann", "bob", "cy"]
        left = next(c for c in cases if c.assignee is None)
        assert left.team == "finance"
        skipped = next(e for e in left.timeline if e.kind == "assignment_skipped")
        assert skipped.data["notify"] == "lead@example.com" and skipped.body
        # the reason is told once (the queue entry said it too, word for word)
        assert [e.kind for e in left.timeline if skipped.body in e.body] == [
            "assignment_skipped"]
        queued = next(e for e in left.timeline if e.kind == "assigned")
        assert queued.describe() == "assigned to nobody in queue finance"

    def test_skills(self, clock: FrozenClock, agent: Actor) -> None:
        """A case tagged skill:sap only goes to agents with that skill."""
        desk = desk_with(clock, directory=directory("round_robin"))
        owners = {desk.create_case(subject=f"c{i}", actor=agent, category="Billing",
                                   tags=["skill:sap"]).assignee for i in range(3)}
        assert owners == {"cy"}


# --- issue 16, point 6: fixes found by the routing check ---------------------------------------

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

PREVIEW_RULES: list[dict[str, object]] = [
    {"id": "gold", "when": {"field": "tier", "equals": "gold"}, "then": {"team": "vip"}},
    {"id": "vip-tag", "when": {"field": "tags", "in": ["vip"]}, "then": {"owner": "ann"}},
    {"id": "eu", "when": {"field": "custom.region", "prefix": "eu"}, "then": {"team": "eu"}},
    {"id": "site", "when": {"all": [{"field": "installation", "exists": True},
                                    {"field": "category", "equals": "Installation"}]},
     "then": {"team": "field-service"}},
    {"id": "blocker", "when": {"field": "severity", "equals": "blocker"},
     "then": {"team": "tier2"}},
    {"id": "urgent-phone", "when": {"all": [{"field": "priority", "equals": "urgent"},
                                            {"field": "source", "equals": "phone"}]},
     "then": {"team": "hotline"}},
    {"id": "bug", "when": {"field": "case_type", "equals": "bug"}, "then": {"team": "qa"}},
]


def branch_directory(*, away: frozenset[str] = frozenset()) -> StaticDirectory:
    agents = [Agent(a, a.title(), away=a in away) for a in ("mia", "olu", "ivy")]
    return StaticDirectory(agents=agents,
                           branches={"north": "mia", "12": "olu", "INST-7": "ivy"})


def spellings(word: str) -> st.SearchStrategy[str]:
    """``word`` as forms send it: any letter case, stray blanks around it."""
    blanks = st.sampled_from(["", " ", "  ", "\t"])
    cases = st.sampled_from([str, str.lower, str.upper, str.title, str.swapcase])
    return st.tuples(blanks, cases, blanks).map(lambda t: f"{t[0]}{t[1](word)}{t[2]}")


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def create_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Random create_case keywords, spelled loosely, now and then invalid."""
    category = draw(maybe(st.sampled_from([*DEFAULT_CATEGORIES, "Nonsense"])))
    fields: dict[str, Any] = {}
    if category is not None:
        fields["category"] = draw(spellings(category))
        subs = DEFAULT_CATEGORIES.get(category, ())
        if subs and draw(st.booleans()):
            fields["subcategory"] = draw(spellings(draw(st.sampled_from(subs))))
    elif draw(st.integers(0, 9)) == 0:
        fields["subcategory"] = "Invoice"  # refused: a subcategory needs a category
    reason = draw(maybe(st.sampled_from([*DEFAULT_REASON_CODES, "damage", "weather"])))
    if reason is not None:
        fields["reason_code"] = draw(spellings(reason))
    for key, words in (("priority", ["low", "normal", "medium", "high", "urgent", "critical"]),
                       ("severity", ["minor", "major", "blocker"]),
                       ("case_type", ["bug", "question", "billing", "feature_request"]),
                       ("source", ["email", "phone", "web", "portal"])):
        word = draw(maybe(st.sampled_from(words)))
        if word is not None:
            fields[key] = draw(spellings(word))
    tags = draw(st.lists(st.sampled_from(["vip", "VIP", " Vip", "skill:sap", "key-account"]),
                         max_size=3))
    if tags:
        fields["tags"] = tags
    links = {k: v for k in ("account", "installation")
             if (v := draw(maybe(st.sampled_from(["acme", "INST-7", "INST-9"])))) is not None}
    if links:
        fields["links"] = links
    custom = {k: v for k, choices in (("tier", ["gold", "Gold", "silver"]),
                                      ("branch", ["north", "south", 12, " north "]),
                                      ("region", ["eu-1", "EU-2", "us-1"]))
              if (v := draw(maybe(st.sampled_from(choices)))) is not None}
    if custom:
        fields["custom"] = custom
    return fields


def as_facts(fields: dict[str, Any], tier_as_fact: bool) -> dict[str, Any]:
    """The same fields keyed by routing fact names (``account``, ``custom.<name>`` …)."""
    out = {k: v for k, v in fields.items() if k not in ("links", "custom")}
    out.update(fields.get("links", {}))
    for name, value in fields.get("custom", {}).items():
        out["tier" if name == "tier" and tier_as_fact else f"custom.{name}"] = value
    return out


def preview_desk() -> ServiceDesk:
    base = default_router()
    router = Router(RuleSet.from_dicts(PREVIEW_RULES), base.fallbacks)
    return ServiceDesk(MemoryStore(), clock=FrozenClock(T0),
                       settings=TenantSettings(router=router), directory=branch_directory())


class TestPreviewIsCreate:
    """route_preview normalises fields exactly as create_case does."""

    def test_blank_padded_category_previews_where_it_is_created(self, agent: Actor) -> None:
        """The reported case: ' billing ' previewed 'support' and created in 'finance'."""
        desk = preview_desk()
        preview = desk.route_preview({"category": " billing "})
        case = desk.create_case(subject="x", actor=agent, category=" billing ")
        assert preview.team == case.team == "finance"
        assert "category='Billing'" in preview.text

    @settings(max_examples=150, deadline=None)
    @given(fields=create_fields(), tier_as_fact=st.booleans())
    def test_preview_equals_the_routing_of_the_created_case(
        self, fields: dict[str, Any], tier_as_fact: bool
    ) -> None:
        """For random field dicts, the preview (in create_case's keywords or in routing fact
        names) is the decision the created case records, or both refuse alike."""
        desk = preview_desk()
        actor = Actor.agent("ana")
        refusal: InvalidInput | None = None
        try:
            case = desk.create_case(subject="x", actor=actor, **fields)
        except InvalidInput as err:
            refusal = err
        if refusal is not None:
            for form in (fields, as_facts(fields, tier_as_fact)):
                with pytest.raises(type(refusal)) as refused:
                    desk.route_preview(form)
                assert str(refused.value) == str(refusal)
            return
        routed = next(e for e in case.timeline if e.kind == "routed")
        for form in (fields, as_facts(fields, tier_as_fact)):
            preview = desk.route_preview(form)
            assert preview.to_dict() == routed.data["decision"]
            assert (preview.team, preview.owner) == (case.team, case.assignee)

    def test_preview_accepts_a_whole_create_form(self, agent: Actor) -> None:
        """subject and description are accepted (and do not route)."""
        desk = preview_desk()
        form = {"subject": "Gate locked", "description": "…", "reason_code": " ACCESS_issue ",
                "links": {"installation": "INST-7", "account": None}}
        assert desk.route_preview(form).team == "branch_manager"

    @pytest.mark.parametrize(("fields", "error", "message"), [
        ({"colour": "red"}, UnknownValue, "routing field 'colour'"),
        ({"tier": "gold", "custom": {"tier": "silver"}}, InvalidInput, "custom.tier"),
        ({"account": "a", "links": {"account": "b"}}, InvalidInput, "links.account"),
        ({"links": ["account"]}, InvalidInput, "links must be a mapping"),
        ({"category": "Nonsense"}, UnknownValue, "category"),
        ({"links": {"planet": "x"}}, UnknownValue, "link"),
        ({3: "x"}, InvalidInput, "string keys"),
    ])
    def test_bad_fields_are_refused_like_create_would(
        self, fields: dict[Any, Any], error: type[Exception], message: str
    ) -> None:
        """Unknown names, two meanings for one field and values create refuses all raise."""
        with pytest.raises(error, match=message):
            preview_desk().route_preview(fields)

    def test_a_non_mapping_is_refused(self) -> None:
        """fields must be a mapping."""
        with pytest.raises(InvalidInput, match="mapping"):
            preview_desk().route_preview(["category"])  # type: ignore[arg-type]


class TestReasonCodeSpellings:
    """The brief's ``damage`` and caselib's ``damaged`` are one reason code."""

    @pytest.mark.parametrize("spelling", ["damage", "damaged", " Damage ", "DAMAGED"])
    def test_both_spellings_store_the_canonical_one(self, clock: FrozenClock, agent: Actor,
                                                    spelling: str) -> None:
        """create_case and update_fields store ``damaged`` for either spelling."""
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, reason_code=spelling)
        assert case.reason_code == "damaged"
        other = desk.create_case(subject="y", actor=agent)
        assert desk.update_fields(other.id, {"reason_code": spelling},
                                  actor=agent).reason_code == "damaged"
        assert desk.route_preview({"reason_code": spelling}).steps[0].matched_on[0] == (
            "reason_code", "damaged")

    def test_a_vocabulary_listing_the_brief_spelling_accepts_the_other(self) -> None:
        """The synonym works both ways: whichever spelling a tenant lists is canonical."""
        vocab = Vocabulary(reason_codes=("damage", "other"))
        assert vocab.reason_code("damaged") == vocab.reason_code("Damage") == "damage"
        assert Vocabulary(reason_codes=("other",)).reason_code_aliases is None
        with pytest.raises(UnknownValue):
            Vocabulary(reason_codes=("other",)).reason_code("damage")

    def test_tenant_aliases(self) -> None:
        """Explicit aliases replace the built-in ones and are checked on construction."""
        vocab = Vocabulary.from_dict({"reason_codes": ["no_access", "other"],
                                      "reason_code_aliases": {"Locked Out": "no_access"}})
        assert vocab.reason_code("locked out") == "no_access"
        with pytest.raises(InvalidConfiguration, match="is a reason code itself"):
            Vocabulary(reason_codes=("a", "b"), reason_code_aliases={"a": "b"})
        with pytest.raises(InvalidConfiguration, match="not one of the vocabulary"):
            Vocabulary(reason_codes=("a",), reason_code_aliases={"x": "zzz"})
        with pytest.raises(InvalidConfiguration, match="non-empty"):
            Vocabulary(reason_codes=("a",), reason_code_aliases={"": "a"})
        with pytest.raises(InvalidConfiguration, match="must map"):
            Vocabulary(reason_codes=("a",), reason_code_aliases=["a"])  # type: ignore[arg-type]

    def test_the_refusal_lists_each_code_once(self) -> None:
        """Aliases do not show up as extra choices in the error."""
        with pytest.raises(UnknownValue) as err:
            Vocabulary().reason_code("weather")
        assert err.value.allowed == DEFAULT_REASON_CODES


class TestUnmappedExplanation:
    """No map entry fired: the timeline names every field routing looked at."""

    def test_reason_code_and_category_are_named(self, clock: FrozenClock, agent: Actor) -> None:
        """A damage case with no category: both facts are in the routed entry."""
        case = desk_with(clock).create_case(subject="x", actor=agent, reason_code="damage")
        routed = next(e for e in case.timeline if e.kind == "routed")
        assert case.team == "support"
        assert "reason_code='damaged'" in routed.body and "category=None" in routed.body
        step = routed.data["decision"]["steps"][0]
        assert step["matched_on"] == [["reason_code", "damaged"], ["category", None]]


class NoBranchDirectory:
    """A host directory written before branch managers existed: the four original methods."""

    def __init__(self, agents: list[Agent]) -> None:
        self._agents = {a.id: a for a in agents}

    def team(self, team_id: str) -> Team | None:
        return None

    def agent(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    def manager_of(self, agent_id: str) -> str | None:
        return None

    def is_available(self, agent: Agent, at: datetime) -> bool:
        return not agent.away


class TestBranchManagers:
    """"Site not ready / access issue → the branch manager" reaches a person."""

    def desk(self, clock: FrozenClock, directory: Any = None,
             branches: BranchRouting | None = None) -> ServiceDesk:
        base = default_router()
        router = Router(fallbacks=base.fallbacks, branches=branches or BranchRouting())
        return ServiceDesk(MemoryStore(), clock=clock, settings=TenantSettings(router=router),
                           directory=directory if directory is not None else branch_directory())

    @pytest.mark.parametrize("reason", ["site_not_ready", "access_issue"])
    def test_the_branch_manager_owns_the_case(self, clock: FrozenClock, agent: Actor,
                                              reason: str) -> None:
        """A case naming its branch goes to that branch's manager, in the queue."""
        case = self.desk(clock).create_case(subject="x", actor=agent, reason_code=reason,
                                            custom={"branch": "north"})
        assert (case.team, case.assignee, case.assigned_manually) == (
            "branch_manager", "mia", False)
        routed = next(e for e in case.timeline if e.kind == "routed")
        assert routed.body.endswith("branch 'north' goes to its manager 'mia'")
        assigned = next(e for e in case.timeline if e.kind == "assigned")
        assert assigned.body == routed.body

    def test_a_numeric_branch_code(self, clock: FrozenClock, agent: Actor) -> None:
        """custom.branch = 12 finds the manager of branch '12'."""
        case = self.desk(clock).create_case(subject="x", actor=agent, reason_code="access_issue",
                                            custom={"branch": 12})
        assert case.assignee == "olu"

    def test_no_branch_means_the_queue(self, clock: FrozenClock, agent: Actor) -> None:
        """Only when the case names no branch does it wait in the queue, saying why."""
        case = self.desk(clock).create_case(subject="x", actor=agent,
                                            reason_code="site_not_ready")
        assert (case.team, case.assignee) == ("branch_manager", None)
        routed = next(e for e in case.timeline if e.kind == "routed")
        assert "names no branch (custom.branch)" in routed.body

    def test_an_away_manager_leaves_the_case_in_the_queue(self, clock: FrozenClock,
                                                           agent: Actor) -> None:
        """A manager the directory says is away is not given the case."""
        desk = self.desk(clock, branch_directory(away=frozenset({"mia"})))
        case = desk.create_case(subject="x", actor=agent, reason_code="site_not_ready",
                                custom={"branch": "north"})
        assert case.assignee is None
        assert "no available manager is known for branch 'north'" in case.timeline[1].body

    def test_a_directory_without_branch_managers_keeps_working(self, clock: FrozenClock,
                                                               agent: Actor) -> None:
        """An existing host Directory (no branch_manager method) routes as before."""
        desk = self.desk(clock, NoBranchDirectory([Agent("mia", "Mia")]))
        case = desk.create_case(subject="x", actor=agent, reason_code="site_not_ready",
                                custom={"branch": "north"})
        assert (case.team, case.assignee) == ("branch_manager", None)
        plain = self.desk(clock).create_case(subject="y", actor=agent, category="Billing")
        assert plain.team == "finance"

    def test_no_directory_at_all(self, clock: FrozenClock, agent: Actor) -> None:
        """Without any directory the case is queued, with the reason."""
        desk = ServiceDesk(MemoryStore(), clock=clock)
        case = desk.create_case(subject="x", actor=agent, reason_code="site_not_ready",
                                custom={"branch": "north"})
        assert (case.team, case.assignee) == ("branch_manager", None)
        assert "no available manager" in case.timeline[1].body

    def test_the_installation_link_names_the_branch(self, clock: FrozenClock,
                                                    agent: Actor) -> None:
        """A tenant that routes by installation: the directory maps installation ids."""
        desk = self.desk(clock, branches=BranchRouting(field="installation"))
        case = desk.create_case(subject="x", actor=agent, reason_code="access_issue",
                                links={"installation": "INST-7"})
        assert case.assignee == "ivy"

    def test_rerouting_to_the_branch_queue_finds_the_manager(self, clock: FrozenClock,
                                                             agent: Actor) -> None:
        """A reason code changed to site_not_ready re-routes to the branch's manager."""
        desk = self.desk(clock)
        case = desk.create_case(subject="x", actor=agent, custom={"branch": "north"})
        assert case.assignee is None
        case = desk.update_fields(case.id, {"reason_code": "site_not_ready"}, actor=agent)
        assert (case.team, case.assignee) == ("branch_manager", "mia")

    def test_preview_shows_the_manager(self, clock: FrozenClock) -> None:
        """route_preview resolves the manager the same way, creating nothing."""
        desk = self.desk(clock)
        decision = desk.route_preview({"reason_code": "site_not_ready", "custom.branch": "north"})
        assert (decision.team, decision.owner) == ("branch_manager", "mia")
        assert desk.count_by_status(actor=READER) == {}

    def test_static_directory_is_a_branch_directory(self) -> None:
        """StaticDirectory answers branch_manager; branch_manager_of finds it (or not)."""
        directory = branch_directory()
        assert directory.branch_manager("north") == "mia"
        assert directory.branch_manager("nowhere") is None
        assert branch_manager_of(directory) is not None
        assert branch_manager_of(NoBranchDirectory([])) is None
        assert branch_manager_of(None) is None
        assert "branches=3" in repr(directory)
