"""Routing and assignment: rules and conditions, fallback maps, the router's index, fair
assignment strategies and the agent directory port.

Pure domain code: the router sees a flat mapping of routing facts, never the case or a store;
assignment is a function of snapshots (agents, loads, the round-robin cursor, ``now``).
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
from caselib.routing.core import (
    CUSTOM_PREFIX,
    OPERATORS,
    ROUTABLE_FIELDS,
    AllOf,
    AnyOf,
    Condition,
    Equals,
    Exists,
    Facts,
    FallbackMap,
    In,
    InvalidRule,
    JsonScalar,
    MatchKind,
    Not,
    Prefix,
    RouteDecision,
    Router,
    RouteStep,
    Rule,
    RuleSet,
    Target,
    naive_first_match,
)
from caselib.routing.directory import (
    Directory,
    StaticDirectory,
)

__all__ = [
    "Agent",
    "AgentLoad",
    "AllOf",
    "AnyOf",
    "AssignmentOutcome",
    "AssignmentStrategy",
    "Availability",
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
    "choose_assignee",
    "eligible_agents",
    "naive_first_match",
]
