"""Fallback maps: preset tables from one fact's value to a team queue.

They run when no tenant rule matched (or a rule named only an owner); the router chains them
before its final default team. Separate from the rules because they are built in code from
presets (:meth:`FallbackMap.by_category`, :meth:`FallbackMap.by_reason_code`), not loaded
from a tenant's JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from caselib.checks import require_items
from caselib.errors import InvalidConfiguration, WrongType
from caselib.routing.conditions import Facts, _check_field
from caselib.routing.decision import MatchKind, RouteStep, _render, _shown
from caselib.routing.rules import _optional_text

__all__ = [
    "FallbackMap",
]


def _routes_tuple(
    routes: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    expected = "a mapping of value to team, or (value, team) pairs"
    pairs = routes.items() if isinstance(routes, Mapping) else require_items(
        routes, "routes", expected)
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise WrongType("routes", expected, pair, hint="one of the items")
    return tuple((str(key), str(team)) for key, team in pairs)


@attrs.frozen
class FallbackMap:
    """A preset table from one fact's value to a team queue, used when no rule matched.

    A map with a ``default`` always decides (mapped value or default), so it must be the last
    in a chain; pass ``default=None`` to let the next map (and finally the router's
    ``default_team``) decide instead.

    Args:
        name: shown in explanations (``"by_category"``).
        field: the single-valued fact to read (not ``tags``).
        routes: value → team; values compare case-insensitively.
        default: the team when the value is absent or not listed, or ``None`` to pass on.
    """

    name: str
    field: str
    routes: tuple[tuple[str, str], ...] = attrs.field(converter=_routes_tuple)
    default: str | None = None
    _lookup: dict[str, str] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        where = f"fallback {self.name!r}"
        try:
            _optional_text(self.name, "fallback name")
            _check_field(self.field)
            if self.field == "tags":
                raise InvalidConfiguration("fallback maps read a single-valued field, not tags")
            _optional_text(self.default, "default team")
            lookup: dict[str, str] = {}
            for key, team in self.routes:
                _optional_text(key, "mapped value")
                _optional_text(team, f"team for {key!r}")
                folded = key.casefold()
                if lookup.get(folded, team) != team:
                    raise InvalidConfiguration(
                        f"{key!r} maps to both {lookup[folded]!r} and {team!r} "
                        "(values compare case-insensitively)"
                    )
                lookup[folded] = team
        except InvalidConfiguration as err:
            raise InvalidConfiguration(f"{where}: {err}") from None
        object.__setattr__(self, "_lookup", lookup)

    @classmethod
    def by_category(
        cls,
        *,
        billing: str = "finance",
        technical: str = "engineering",
        default: str | None = "support",
        name: str = "by_category",
    ) -> FallbackMap:
        """``Billing`` → finance, ``Technical`` → engineering, anything else → ``default``."""
        return cls(name, "category", {"Billing": billing, "Technical": technical}, default)

    @classmethod
    def by_reason_code(
        cls,
        *,
        missing_part: str = "purchasing",
        wrong_item: str = "warehouse",
        site_not_ready: str = "branch_manager",
        access_issue: str = "branch_manager",
        default: str | None = "support",
        name: str = "by_reason_code",
    ) -> FallbackMap:
        """Field-service reasons to the team that can unblock them; else ``default``."""
        routes = {
            "missing_part": missing_part,
            "wrong_item": wrong_item,
            "site_not_ready": site_not_ready,
            "access_issue": access_issue,
        }
        return cls(name, "reason_code", routes, default)

    def step(self, facts: Facts) -> RouteStep | None:
        """Return this map's decision for ``facts``, or ``None`` to pass to the next map."""
        mapped = self.mapped_step(facts)
        if mapped is not None or self.default is None:
            return mapped
        return self.default_step(((self.field, _shown(facts.get(self.field))),))

    def mapped_step(self, facts: Facts) -> RouteStep | None:
        """The step when the map has an entry for the fact's value, else ``None``."""
        value = facts.get(self.field)
        team = self._lookup.get(value.casefold()) if isinstance(value, str) else None
        if team is None:
            return None
        return RouteStep(
            kind=MatchKind.FALLBACK,
            ref=self.name,
            team=team,
            matched_on=((self.field, value),),
            text=f"fallback {self.name!r} mapped {self.field}={value!r} to team {team!r}",
        )

    def default_step(self, looked: tuple[tuple[str, object], ...]) -> RouteStep:
        """The step when this map's default decides, after no map of the chain had an entry
        for ``looked`` (every ``(field, value)`` the chain read, this map's last)."""
        if self.default is None:
            raise InvalidConfiguration(f"fallback {self.name!r} has no default team")
        if len(looked) == 1:
            text = (
                f"fallback {self.name!r} has no entry for {_render(looked)}, "
                f"using its default team {self.default!r}"
            )
        else:
            text = (
                f"no fallback has an entry for {_render(looked, ' or ')}, using the default "
                f"team {self.default!r} of fallback {self.name!r}"
            )
        return RouteStep(
            kind=MatchKind.FALLBACK,
            ref=self.name,
            team=self.default,
            matched_on=looked,
            text=text,
        )

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able form (for admin screens and snapshots)."""
        return {
            "name": self.name,
            "field": self.field,
            "routes": dict(self.routes),
            "default": self.default,
        }
