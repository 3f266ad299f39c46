"""Routing and assignment: rules and conditions, fallback maps, the router's index, fair
assignment strategies and the agent directory port.

Pure domain code: the router sees a flat mapping of routing facts, never the case or a store;
assignment is a function of snapshots (agents, loads, the round-robin cursor, ``now``).

Modules, lowest first: ``conditions`` (routing facts, condition types, their JSON form and
matching semantics), ``rules`` (targets, rules, rule sets, the naive oracle), ``decision``
(route steps and decisions with their evidence), ``fallback`` (fallback maps), ``branches``
(a branch-manager queue resolved to the case's own branch manager), ``index`` (compiled
predicates and the rule index), ``router`` (the router), ``assignment`` (choosing an agent
inside a team) and ``directory`` (the agent directory port).
"""

from __future__ import annotations

from caselib.routing.assignment import (
    Agent,
    AgentLoad,
    AssignmentOutcome,
    AssignmentStrategy,
    Availability,
    SkipReason,
    Team,
    choose_assignee,
    eligible_agents,
)
from caselib.routing.branches import BranchManagerLookup, BranchRouting
from caselib.routing.conditions import (
    CUSTOM_PREFIX,
    OPERATORS,
    ROUTABLE_FIELDS,
    AllOf,
    AnyOf,
    Condition,
    Equals,
    Exists,
    Facts,
    In,
    JsonScalar,
    Not,
    Prefix,
)
from caselib.routing.decision import MatchKind, RouteDecision, RouteStep
from caselib.routing.directory import (
    BranchDirectory,
    Directory,
    StaticDirectory,
    branch_manager_of,
)
from caselib.routing.fallback import FallbackMap
from caselib.routing.router import Router
from caselib.routing.rules import InvalidRule, Rule, RuleSet, Target, naive_first_match

__all__ = [
    "Agent",
    "AgentLoad",
    "AllOf",
    "AnyOf",
    "AssignmentOutcome",
    "AssignmentStrategy",
    "Availability",
    "BranchDirectory",
    "BranchManagerLookup",
    "BranchRouting",
    "CUSTOM_PREFIX",
    "Condition",
    "Directory",
    "Equals",
    "Exists",
    "Facts",
    "FallbackMap",
    "In",
    "InvalidRule",
    "JsonScalar",
    "MatchKind",
    "Not",
    "OPERATORS",
    "Prefix",
    "ROUTABLE_FIELDS",
    "RouteDecision",
    "RouteStep",
    "Router",
    "Rule",
    "RuleSet",
    "SkipReason",
    "StaticDirectory",
    "Target",
    "Team",
    "branch_manager_of",
    "choose_assignee",
    "eligible_agents",
    "naive_first_match",
]
