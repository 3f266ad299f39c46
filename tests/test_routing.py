"""Tests for caselib.routing: rules as data, fallback maps, explanations and the index."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselib.errors import InvalidConfiguration, InvalidInput
from caselib.routing import (
    ROUTABLE_FIELDS,
    AllOf,
    AnyOf,
    Condition,
    Equals,
    Exists,
    FallbackMap,
    In,
    InvalidRule,
    MatchKind,
    Not,
    Prefix,
    Router,
    Rule,
    RuleSet,
    Target,
    naive_first_match,
)

PROPS = settings(max_examples=200, deadline=None)

# --- hypothesis strategies -------------------------------------------------------------------

# Few fields and a small shared vocabulary, so that random rules and random cases collide
# often (case variants, prefixes equal to whole values, "ß" folding to "ss").
FIELDS = ["category", "tier", "tags", "custom.region", "custom.n"]
WORDS = ["billing", "Billing", "BILLING", "bob", "Tech", "tx", "e", "ß", "ss"]
TEXT = st.sampled_from(WORDS)
NUMBER = st.sampled_from([0, 1, 1.0, 2, 2.5, -1])


def _value_for(field: str) -> st.SearchStrategy[Any]:
    if field.startswith("custom."):
        return st.one_of(TEXT, NUMBER, st.booleans())
    return TEXT


@st.composite
def leaves(draw: st.DrawFn) -> Condition:
    field = draw(st.sampled_from(FIELDS))
    kind = draw(st.sampled_from(["equals", "in", "prefix", "exists"]))
    if kind == "equals":
        return Equals(field, draw(_value_for(field)))
    if kind == "in":
        return In(field, draw(st.lists(_value_for(field), min_size=1, max_size=3)))
    if kind == "prefix":
        word = draw(TEXT)
        return Prefix(field, word[: draw(st.integers(1, len(word)))])
    return Exists(field)


conditions: st.SearchStrategy[Condition] = st.recursive(
    leaves(),
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, max_size=3).map(AllOf),
        st.lists(children, min_size=1, max_size=3).map(AnyOf),
    ),
    max_leaves=6,
)

# Shallow conditions: the shapes real rule sets have, where the index's shortcuts live.
flat_conditions: st.SearchStrategy[Condition] = st.one_of(
    leaves(),
    st.lists(st.one_of(leaves(), leaves().map(Not)), min_size=2, max_size=3).map(AllOf),
    st.lists(leaves(), min_size=2, max_size=3).map(AnyOf),
)

targets = st.one_of(
    st.builds(Target, team=st.sampled_from(["t1", "t2", "t3"])),
    st.builds(Target, owner=st.sampled_from(["a1", "a2"])),
    st.builds(Target, team=st.sampled_from(["t1", "t2"]), owner=st.sampled_from(["a1", "a2"])),
)


@st.composite
def rule_lists(
    draw: st.DrawFn, max_size: int = 25, whens_from: st.SearchStrategy[Condition] = conditions
) -> list[Rule]:
    whens = draw(st.lists(whens_from, max_size=max_size))
    return [Rule(id=f"r{i}", when=w, then=draw(targets)) for i, w in enumerate(whens)]


def _fact_value(field: str) -> st.SearchStrategy[Any]:
    if field == "tags":
        return st.frozensets(st.one_of(TEXT, st.just("")), max_size=3)
    if field.startswith("custom."):
        return st.one_of(TEXT, NUMBER, st.booleans(), st.just(""), st.just([1, 2]))
    return st.one_of(TEXT, st.just(""))


@st.composite
def facts(draw: st.DrawFn) -> dict[str, object]:
    out: dict[str, object] = {}
    for field in [*FIELDS, "priority"]:
        choice = draw(st.sampled_from(["missing", "none", "value", "value", "value"]))
        if choice == "none":
            out[field] = None
        elif choice == "value":
            out[field] = draw(_fact_value(field))
    return out


FALLBACKS = [FallbackMap.by_category(default=None), FallbackMap.by_reason_code()]


# --- properties ------------------------------------------------------------------------------


class TestProperties:
    """Properties over random rule sets and random cases."""

    @PROPS
    @given(rules=rule_lists(), case=facts())
    def test_indexed_equals_naive(self, rules: list[Rule], case: dict[str, object]) -> None:
        """The index picks exactly the rule the plain ordered loop picks."""
        router = Router(rules, FALLBACKS)
        oracle = naive_first_match(rules, case)
        assert router.first_match(case) == oracle
        assert router.first_match_naive(case) == oracle
        assert router.route(case) == router.route_naive(case)

    @settings(max_examples=300, deadline=None)
    @given(rules=rule_lists(max_size=6, whens_from=flat_conditions), case=facts())
    def test_indexed_equals_naive_shallow(self, rules: list[Rule], case: dict[str, object]) -> None:
        """Same, on few shallow rules, so that each rule's own shortcut decides often."""
        router = Router(rules, FALLBACKS)
        assert router.first_match(case) == naive_first_match(rules, case)

    @PROPS
    @given(condition=conditions, case=facts())
    def test_compiled_condition_agrees_with_reference(
        self, condition: Condition, case: dict[str, object]
    ) -> None:
        """A lone rule matches through the router iff its reference evaluation says so."""
        router = Router([Rule(id="only", when=condition, then=Target(team="t"))])
        assert (router.first_match(case) == 0) == condition.matches(case)

    @settings(max_examples=400, deadline=None)
    @given(leaf=leaves(), case=facts())
    def test_each_operator_agrees_with_reference(
        self, leaf: Condition, case: dict[str, object]
    ) -> None:
        """Every operator, bare (answered by the index) and wrapped (compiled), is exact."""
        for condition in (leaf, AllOf([leaf]), Not(leaf)):
            router = Router([Rule(id="only", when=condition, then=Target(team="t"))])
            assert (router.first_match(case) == 0) == condition.matches(case), condition

    @PROPS
    @given(rules=rule_lists(), case=facts())
    def test_deterministic_and_always_queued(
        self, rules: list[Rule], case: dict[str, object]
    ) -> None:
        """Same input, same decision; every case lands in a non-empty queue."""
        router = Router(rules, FALLBACKS)
        first = router.route(case)
        assert first == router.route(dict(case)) == Router(rules, FALLBACKS).route(case)
        assert isinstance(first.team, str)
        assert first.team
        assert first.text
        assert first.steps

    @PROPS
    @given(rules=rule_lists(), case=facts())
    def test_no_match_gives_exactly_the_fallback(
        self, rules: list[Rule], case: dict[str, object]
    ) -> None:
        """When no rule matches, the decision is the one the fallbacks alone give."""
        router = Router(rules, FALLBACKS)
        if naive_first_match(rules, case) is None:
            assert router.route(case) == Router([], FALLBACKS).route(case)

    @PROPS
    @given(rules=rule_lists(max_size=8))
    def test_to_dicts_round_trip(self, rules: list[Rule]) -> None:
        """Rules survive dicts and JSON unchanged."""
        ruleset = RuleSet(rules)
        assert RuleSet.from_dicts(ruleset.to_dicts()) == ruleset
        assert RuleSet.from_json(ruleset.to_json()) == ruleset

    @PROPS
    @given(rules=rule_lists(max_size=8), case=facts())
    def test_rule_decision_follows_the_target(
        self, rules: list[Rule], case: dict[str, object]
    ) -> None:
        """A matching rule's team/owner is what the decision carries."""
        decision = Router(rules, FALLBACKS).route(case)
        position = naive_first_match(rules, case)
        if position is None:
            assert decision.owner is None
            assert decision.rule_id is None
        else:
            rule = rules[position]
            assert decision.rule_id == rule.id
            assert decision.owner == rule.then.owner
            if rule.then.team is not None:
                assert decision.team == rule.then.team


# --- fallback maps ---------------------------------------------------------------------------


class TestFallbackByCategory:
    """The category preset: Billing → finance, Technical → engineering, else support."""

    router = Router(fallbacks=[FallbackMap.by_category()])

    @pytest.mark.parametrize(
        ("category", "team"),
        [
            ("Billing", "finance"),
            ("billing", "finance"),
            ("BILLING", "finance"),
            ("Technical", "engineering"),
            ("technical", "engineering"),
            ("TECHNICAL", "engineering"),
            ("Shipping", "support"),
            ("", "support"),
            (None, "support"),
        ],
    )
    def test_mapping(self, category: str | None, team: str) -> None:
        """Each category lands in its documented queue."""
        assert self.router.route({"category": category}).team == team

    def test_missing_field(self) -> None:
        """A case without a category still gets a queue."""
        assert self.router.route({}).team == "support"

    def test_configurable_names(self) -> None:
        """Queue names are configurable."""
        fallback = FallbackMap.by_category(billing="ar", technical="dev", default="desk")
        router = Router(fallbacks=[fallback])
        assert router.route({"category": "billing"}).team == "ar"
        assert router.route({"category": "Technical"}).team == "dev"
        assert router.route({"category": "other"}).team == "desk"


class TestFallbackByReasonCode:
    """The field-service preset."""

    router = Router(fallbacks=[FallbackMap.by_reason_code()])

    @pytest.mark.parametrize(
        ("reason", "team"),
        [
            ("missing_part", "purchasing"),
            ("MISSING_PART", "purchasing"),
            ("wrong_item", "warehouse"),
            ("site_not_ready", "branch_manager"),
            ("access_issue", "branch_manager"),
            ("Access_Issue", "branch_manager"),
            ("weather", "support"),
            (None, "support"),
        ],
    )
    def test_mapping(self, reason: str | None, team: str) -> None:
        """Each reason code lands in its documented queue."""
        assert self.router.route({"reason_code": reason}).team == team


class TestFallbackChain:
    """Several fallbacks, then the router's default team."""

    def test_chain_order_and_default(self) -> None:
        """The first map that knows the value decides; the default catches the rest."""
        router = Router(
            fallbacks=[
                FallbackMap.by_category(default=None),
                FallbackMap.by_reason_code(default=None),
            ],
            default_team="frontline",
        )
        both = {"category": "Billing", "reason_code": "wrong_item"}
        assert router.route(both).team == "finance"
        assert router.route({"category": "Other", "reason_code": "wrong_item"}).team == (
            "warehouse"
        )
        decision = router.route({"category": "Other"})
        assert decision.team == "frontline"
        assert decision.kind is MatchKind.DEFAULT
        assert decision.steps[0].matched_on == (("category", "Other"), ("reason_code", None))

    def test_no_fallbacks_uses_default(self) -> None:
        """A router with neither rules nor fallbacks still queues every case."""
        assert Router().route({"category": "Billing"}).team == "support"

    def test_default_in_the_middle_is_refused(self) -> None:
        """A map with a default before another map would hide it."""
        with pytest.raises(InvalidConfiguration, match="by_category"):
            Router(fallbacks=[FallbackMap.by_category(), FallbackMap.by_reason_code()])

    def test_tags_fallback_refused(self) -> None:
        """Fallback maps read single-valued fields."""
        with pytest.raises(InvalidConfiguration, match="single-valued"):
            FallbackMap("by_tag", "tags", {"vip": "vip-desk"})

    def test_conflicting_case_variants_refused(self) -> None:
        """Two spellings of one value cannot map to two teams."""
        with pytest.raises(InvalidConfiguration, match="case-insensitively"):
            FallbackMap("x", "category", {"Billing": "a", "BILLING": "b"})


# --- rules -----------------------------------------------------------------------------------

RULES_JSON = """
[
  {"id": "vip-billing", "name": "VIP billing",
   "when": {"all": [{"field": "category", "equals": "Billing"},
                    {"field": "tags", "in": ["vip", "key-account"]}]},
   "then": {"team": "vip-desk", "owner": "agent-7"}},
  {"id": "eu-hardware", "when": {"field": "custom.region", "prefix": "eu-"},
   "then": {"owner": "agent-9"}},
  {"id": "no-account", "when": {"field": "account", "exists": false},
   "then": {"team": "triage"}},
  {"id": "big-plant", "when": {"field": "custom.plant", "in": [12, 14]},
   "then": {"team": "plant-ops"}}
]
"""


class TestRules:
    """Loading, matching and explaining tenant rules."""

    router = Router(RuleSet.from_json(RULES_JSON), FALLBACKS)

    def test_first_match_wins(self) -> None:
        """An earlier rule beats a later one that also matches."""
        case = {"category": "billing", "tags": frozenset({"VIP"})}  # also has no account
        decision = self.router.route(case)
        assert (decision.team, decision.owner, decision.rule_id) == (
            "vip-desk",
            "agent-7",
            "vip-billing",
        )

    def test_explanation_of_a_rule(self) -> None:
        """The explanation names the rule, its position and the values it matched on."""
        decision = self.router.route(
            {"category": "BILLING", "tags": frozenset({"vip", "x"}), "account": "A1"}
        )
        (step,) = decision.steps
        assert step.kind is MatchKind.RULE
        assert (step.ref, step.position) == ("vip-billing", 1)
        assert step.matched_on == (("category", "BILLING"), ("tags", ("vip",)))
        assert decision.text == (
            "rule #1 'vip-billing' (VIP billing) matched category='BILLING', tags has 'vip' "
            "→ team 'vip-desk', owner 'agent-7'"
        )
        as_dict = decision.to_dict()
        assert json.loads(json.dumps(as_dict)) == as_dict
        assert as_dict["steps"][0]["matched_on"] == [["category", "BILLING"], ["tags", ["vip"]]]

    def test_owner_only_rule_takes_team_from_fallback(self) -> None:
        """A rule naming only an owner still puts the case in a queue."""
        decision = self.router.route(
            {"custom.region": "EU-west", "category": "Technical", "account": "A1"}
        )
        assert (decision.team, decision.owner) == ("engineering", "agent-9")
        assert [s.kind for s in decision.steps] == [MatchKind.RULE, MatchKind.FALLBACK]
        assert "rule #2 'eu-hardware'" in decision.text
        assert "by_category" in decision.text

    def test_explanation_of_a_fallback(self) -> None:
        """No rule: the explanation names the fallback and the value it mapped."""
        decision = self.router.route({"account": "A1", "reason_code": "Missing_Part"})
        assert decision.team == "purchasing"
        assert decision.rule_id is None
        (step,) = decision.steps
        assert (step.kind, step.ref, step.matched_on) == (
            MatchKind.FALLBACK,
            "by_reason_code",
            (("reason_code", "Missing_Part"),),
        )
        assert decision.text.startswith("no rule matched; fallback 'by_reason_code' mapped")

    def test_not_exists_and_numbers(self) -> None:
        """``exists: false`` and numeric custom fields (1 == 1.0; True is not 1)."""
        assert self.router.route({}).rule_id == "no-account"
        assert self.router.route({"account": "A", "custom.plant": 12.0}).team == "plant-ops"
        assert self.router.route({"account": "A", "custom.plant": "12"}).team == "support"

    def test_booleans_do_not_equal_numbers(self) -> None:
        """``True`` in a fact never matches a rule value of 1."""
        router = Router([Rule(id="one", when=Equals("custom.n", 1), then=Target(team="t"))])
        assert router.route({"custom.n": True}).rule_id is None
        assert router.route({"custom.n": 1}).rule_id == "one"

    def test_all_needs_every_part(self) -> None:
        """An ``all`` rule found through one indexed part still checks the other parts."""
        when = AllOf([Equals("tier", "gold"), Prefix("custom.region", "eu")])
        router = Router([Rule(id="a", when=when, then=Target(team="t"))])
        assert router.route({"tier": "Gold", "custom.region": "us-1"}).rule_id is None
        assert router.route({"tier": "Gold", "custom.region": "EU-1"}).rule_id == "a"

    def test_catch_all_rule(self) -> None:
        """``{"all": []}`` matches every case."""
        router = Router.from_dicts([{"id": "all", "when": {"all": []}, "then": {"team": "x"}}])
        assert router.route({}).team == "x"

    def test_to_dicts_normalises_exists_false(self) -> None:
        """``exists: false`` is stored as ``not exists``, which loads back the same."""
        ruleset = RuleSet.from_json(RULES_JSON)
        assert ruleset.to_dicts()[2]["when"] == {"not": {"field": "account", "exists": True}}
        assert RuleSet.from_dicts(ruleset.to_dicts()) == ruleset

    def test_routable_fields(self) -> None:
        """The documented field names are exported."""
        assert {"category", "reason_code", "tags", "tier", "account"} <= ROUTABLE_FIELDS


class TestRuleValidation:
    """Bad rules fail on load, naming the rule by position and id."""

    @staticmethod
    def load(rule: dict[str, Any]) -> None:
        ok = {"id": "ok", "when": {"field": "category", "equals": "x"}, "then": {"team": "t"}}
        RuleSet.from_dicts([ok, rule])

    @pytest.mark.parametrize(
        ("rule", "message"),
        [
            (
                {"id": "r", "when": {"field": "colour", "equals": "x"}, "then": {"team": "t"}},
                "unknown field 'colour'",
            ),
            (
                {"id": "r", "when": {"field": "category", "like": "x"}, "then": {"team": "t"}},
                "unknown operator 'like'",
            ),
            (
                {"id": "r", "when": {"xor": []}, "then": {"team": "t"}},
                "unknown operator 'xor'",
            ),
            ({"id": "r", "when": {"field": "category", "equals": "x"}}, "missing target"),
            (
                {"id": "r", "when": {"field": "category", "equals": "x"}, "then": {}},
                "team, an owner or both",
            ),
            (
                {"id": "r", "when": {"field": "category", "equals": 3}, "then": {"team": "t"}},
                "needs non-empty text",
            ),
            (
                {"id": "r", "when": {"field": "category", "in": "abc"}, "then": {"team": "t"}},
                "needs a list",
            ),
            (
                {"id": "r", "when": {"field": "category", "exists": "yes"}, "then": {"team": "t"}},
                "true or false",
            ),
            (
                {"id": "r", "when": {"any": []}, "then": {"team": "t"}},
                "at least one condition",
            ),
            (
                {"id": "r", "when": {"field": "custom.x", "equals": None}, "then": {"team": "t"}},
                "non-empty text, a number or a boolean",
            ),
            (
                {"id": "r", "when": {"field": "category", "prefix": ""}, "then": {"team": "t"}},
                "prefix",
            ),
            (
                {"id": "r", "when": {"all": {}}, "then": {"team": "t"}},
                "needs a list of conditions",
            ),
            (
                {"id": "r", "when": {"all": []}, "then": {"team": 5}},
                "then.team must be text",
            ),
            ({"id": "r", "when": {"all": []}, "then": {"team": "t"}, "priority": 1}, "unknown key"),
        ],
    )
    def test_error_names_the_rule(self, rule: dict[str, Any], message: str) -> None:
        """The error is an InvalidConfiguration naming rule #2 (id 'r') and the problem."""
        with pytest.raises(InvalidRule) as caught:
            self.load(rule)
        text = str(caught.value)
        assert text.startswith("rule #2 (id 'r'): ")
        assert message in text
        assert isinstance(caught.value, InvalidConfiguration)
        assert isinstance(caught.value, InvalidInput)
        assert (caught.value.position, caught.value.rule_id) == (2, "r")

    def test_path_inside_the_condition(self) -> None:
        """Nested errors say where in the condition they are."""
        rule = {
            "id": "r",
            "when": {"all": [{"field": "tier", "equals": "gold"}, {"not": {"field": "bogus"}}]},
            "then": {"team": "t"},
        }
        with pytest.raises(InvalidRule, match=r"when\.all\[1\]\.not"):
            self.load(rule)

    def test_missing_id(self) -> None:
        """A rule without an id is named by its position."""
        with pytest.raises(InvalidRule, match=r"^rule #2: id must be non-empty text"):
            self.load({"when": {"all": []}, "then": {"team": "t"}})

    def test_duplicate_id(self) -> None:
        """Ids are unique."""
        with pytest.raises(InvalidRule, match=r"rule #2 \(id 'ok'\): duplicate id.*rule #1"):
            self.load({"id": "ok", "when": {"all": []}, "then": {"team": "t"}})

    def test_bad_json(self) -> None:
        """Broken JSON is a configuration error, not a JSONDecodeError."""
        with pytest.raises(InvalidConfiguration, match="not valid JSON"):
            RuleSet.from_json("[{")
        with pytest.raises(InvalidConfiguration, match="must be a list"):
            RuleSet.from_json('{"id": "x"}')

    def test_wrapped_rules_json(self) -> None:
        """``{"rules": [...]}`` is accepted too."""
        text = json.dumps({"rules": [{"id": "a", "when": {"all": []}, "then": {"team": "t"}}]})
        assert len(RuleSet.from_json(text)) == 1

    def test_nesting_limit(self) -> None:
        """Pathologically deep JSON is refused instead of exhausting the stack."""
        when: dict[str, Any] = {"field": "tier", "exists": True}
        for _ in range(100):
            when = {"not": when}
        with pytest.raises(InvalidRule, match="nest deeper"):
            self.load({"id": "r", "when": when, "then": {"team": "t"}})

    def test_rules_built_in_code_are_validated(self) -> None:
        """Conditions validate on construction too."""
        with pytest.raises(InvalidConfiguration, match="unknown field"):
            Equals("colour", "red")
        with pytest.raises(InvalidConfiguration, match="at least one value"):
            In("tier", [])
        with pytest.raises(InvalidConfiguration, match="finite"):
            Equals("custom.x", float("nan"))


# --- explanations of a default name every field the chain read (issue 16, point 6) -------------


class TestDefaultExplanations:
    """When no map entry fires, the explanation names every field the fallbacks looked at."""

    chain = Router(fallbacks=[FallbackMap.by_reason_code(default=None), FallbackMap.by_category()])

    def test_a_default_after_a_chain_names_the_reason_code_too(self) -> None:
        """The desk's default chain: reason code and category are both named, with values."""
        decision = self.chain.route({"reason_code": "damaged", "category": "Account"})
        (step,) = decision.steps
        assert (step.kind, step.ref, step.team) == (MatchKind.FALLBACK, "by_category", "support")
        assert step.matched_on == (("reason_code", "damaged"), ("category", "Account"))
        assert decision.text == (
            "no rule matched; no fallback has an entry for reason_code='damaged' or "
            "category='Account', using the default team 'support' of fallback 'by_category'"
        )

    def test_absent_fields_are_named_as_none(self) -> None:
        """A case with neither field still says which fields were read."""
        decision = self.chain.route({})
        assert decision.steps[0].matched_on == (("reason_code", None), ("category", None))
        assert "reason_code=None" in decision.text and "category=None" in decision.text

    def test_a_lone_map_keeps_its_own_wording(self) -> None:
        """One map with a default: the wording is the map's own, naming its field."""
        decision = Router(fallbacks=[FallbackMap.by_category()]).route({"category": "Other"})
        assert decision.text == (
            "no rule matched; fallback 'by_category' has no entry for category='Other', "
            "using its default team 'support'"
        )
        assert FallbackMap.by_category().step({"category": "Other"}) == decision.steps[0]

    def test_a_field_read_twice_is_named_once(self) -> None:
        """Two maps over one field: the field appears once in the evidence."""
        router = Router(fallbacks=[
            FallbackMap("a", "category", {"Billing": "finance"}),
            FallbackMap("b", "category", {"Technical": "engineering"}, default="desk"),
        ])
        assert router.route({"category": "x"}).steps[0].matched_on == (("category", "x"),)

    def test_an_owner_only_rule_explains_its_default_team_the_same_way(self) -> None:
        """The team step after an owner-only rule names every field read too."""
        router = Router(
            [Rule(id="o", when=Equals("tier", "gold"), then=Target(owner="ann"))],
            self.chain.fallbacks,
        )
        decision = router.route({"tier": "gold", "reason_code": "other"})
        assert decision.owner == "ann"
        assert decision.steps[1].matched_on == (("reason_code", "other"), ("category", None))

    def test_the_default_step_of_a_map_without_default_is_refused(self) -> None:
        """Asking a pass-through map for its default is a configuration error."""
        with pytest.raises(InvalidConfiguration, match="no default"):
            FallbackMap.by_reason_code(default=None).default_step((("reason_code", None),))


# --- branch managers (issue 16, point 6) -------------------------------------------------------

BRANCH_CHAIN = [FallbackMap.by_reason_code(default=None), FallbackMap.by_category()]
MANAGERS = {"north": "mia", "12": "olu", "INST-7": "ivy"}


class TestBranchRouting:
    """A case queued for "the branch manager" goes to its own branch's manager."""

    router = Router(fallbacks=BRANCH_CHAIN)

    def test_the_branch_manager_becomes_the_owner(self) -> None:
        """site_not_ready with custom.branch: the lookup's manager owns the case."""
        decision = self.router.route(
            {"reason_code": "site_not_ready", "custom.branch": "north"},
            branch_manager=MANAGERS.get,
        )
        assert (decision.team, decision.owner) == ("branch_manager", "mia")
        assert [s.kind for s in decision.steps] == [MatchKind.FALLBACK, MatchKind.BRANCH]
        assert decision.steps[1].matched_on == (("custom.branch", "north"),)
        assert decision.text.endswith("; branch 'north' goes to its manager 'mia'")
        assert decision.kind is MatchKind.FALLBACK  # what chose the queue

    def test_a_whole_number_branch_code_is_looked_up_as_text(self) -> None:
        """custom.branch = 12 asks for branch '12'."""
        decision = self.router.route({"reason_code": "access_issue", "custom.branch": 12},
                                     branch_manager=MANAGERS.get)
        assert decision.owner == "olu"

    @pytest.mark.parametrize("branch", [None, "", "  ", True, 1.5, [1]])
    def test_no_branch_waits_in_the_queue_and_says_so(self, branch: object) -> None:
        """No usable branch value: no owner, and the step says the case names no branch."""
        decision = self.router.route({"reason_code": "site_not_ready", "custom.branch": branch},
                                     branch_manager=MANAGERS.get)
        assert (decision.team, decision.owner) == ("branch_manager", None)
        assert decision.steps[-1].text == (
            "the case names no branch (custom.branch), so it waits in queue 'branch_manager'"
        )

    def test_an_unknown_branch_waits_in_the_queue_and_says_so(self) -> None:
        """The lookup knows nobody: the queue, with the branch named."""
        decision = self.router.route({"reason_code": "site_not_ready", "custom.branch": "x"},
                                     branch_manager=MANAGERS.get)
        assert decision.owner is None
        assert "no available manager is known for branch 'x'" in decision.text

    def test_the_installation_link_can_name_the_branch(self) -> None:
        """A tenant routing by installation hands installation ids to the lookup."""
        from caselib.routing import BranchRouting

        router = Router(fallbacks=BRANCH_CHAIN, branches=BranchRouting(field="installation"))
        decision = router.route({"reason_code": "access_issue", "installation": "INST-7"},
                                branch_manager=MANAGERS.get)
        assert decision.owner == "ivy"

    def test_other_queues_and_owned_decisions_are_left_alone(self) -> None:
        """Only an unowned decision for the branch queue gets a branch step."""
        calls: list[str] = []

        def lookup(branch: str) -> str | None:
            calls.append(branch)
            return "mia"

        assert self.router.route({"reason_code": "missing_part", "custom.branch": "north"},
                                 branch_manager=lookup).owner is None
        owner_rule = Router(
            [Rule(id="o", when=Exists("custom.branch"),
                  then=Target(team="branch_manager", owner="zed"))], BRANCH_CHAIN)
        assert owner_rule.route({"custom.branch": "north"}, branch_manager=lookup).owner == "zed"
        assert calls == []

    def test_without_a_lookup_or_with_branches_off_routing_is_unchanged(self) -> None:
        """The pure router (no lookup) and ``branches=None`` keep the old decision."""
        facts = {"reason_code": "site_not_ready", "custom.branch": "north"}
        plain = self.router.route(facts)
        assert (plain.owner, len(plain.steps)) == (None, 1)
        off = Router(fallbacks=BRANCH_CHAIN, branches=None)
        assert off.route(facts, branch_manager=MANAGERS.get) == plain

    def test_a_tenant_can_name_its_own_queue(self) -> None:
        """The queue is configurable, e.g. for a renamed reason-code map."""
        from caselib.routing import BranchRouting

        router = Router(
            fallbacks=[FallbackMap.by_reason_code(site_not_ready="site-leads")],
            branches=BranchRouting(queue="site-leads"),
        )
        decision = router.route({"reason_code": "site_not_ready", "custom.branch": "north"},
                                branch_manager=MANAGERS.get)
        assert (decision.team, decision.owner) == ("site-leads", "mia")

    @pytest.mark.parametrize(("kwargs", "message"), [
        ({"field": "colour"}, "unknown field"),
        ({"field": "tags"}, "single-valued"),
        ({"queue": ""}, "non-empty"),
        ({"queue": None}, "non-empty"),
    ])
    def test_bad_configuration_is_refused(self, kwargs: dict[str, Any], message: str) -> None:
        """A branch setting that could never work fails when it is built."""
        from caselib.routing import BranchRouting

        with pytest.raises(InvalidConfiguration, match=message):
            BranchRouting(**kwargs)
        with pytest.raises(InvalidConfiguration, match="BranchRouting"):
            Router(branches="custom.branch")  # type: ignore[arg-type]

    def test_branch_steps_are_json_ready(self) -> None:
        """The decision with a branch step survives JSON, as the timeline stores it."""
        decision = self.router.route({"reason_code": "site_not_ready", "custom.branch": "north"},
                                     branch_manager=MANAGERS.get)
        as_dict = decision.to_dict()
        assert json.loads(json.dumps(as_dict)) == as_dict
        assert as_dict["steps"][1]["kind"] == "branch"
        assert as_dict["owner"] == "mia"

    @PROPS
    @given(
        rules=rule_lists(max_size=6),
        case=facts(),
        reason=st.sampled_from([None, "site_not_ready", "access_issue", "other"]),
        branch=st.sampled_from([None, "north", "south", 12]),
        team=st.sampled_from(["t1", "branch_manager"]),
    )
    def test_indexed_equals_naive_with_a_lookup(
        self, rules: list[Rule], case: dict[str, object], reason: str | None,
        branch: object, team: str,
    ) -> None:
        """With a lookup, the indexed and plain routes still agree, and a branch step is
        added exactly to unowned decisions for the branch queue."""
        rules = [*rules, Rule(id="bm", when=Equals("tier", "bm"), then=Target(team=team))]
        facts_ = {**case, "reason_code": reason, "custom.branch": branch}
        router = Router(rules, BRANCH_CHAIN)
        plain = router.route(facts_)
        decision = router.route(facts_, branch_manager=MANAGERS.get)
        assert decision == router.route_naive(facts_, branch_manager=MANAGERS.get)
        wants_step = plain.team == "branch_manager" and plain.owner is None
        assert (decision.steps[-1].kind is MatchKind.BRANCH) == wants_step
        assert decision.steps[: len(plain.steps)] == plain.steps
        if not wants_step:
            assert decision == plain
