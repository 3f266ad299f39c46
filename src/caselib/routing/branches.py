"""Branch managers: a case queued for "the branch manager" goes to *its* branch's manager.

The brief routes "site not ready / access issue → the branch manager". A queue alone does not
reach a person, so when the case names its branch (a routing fact the tenant chooses,
``custom.branch`` by default, or the ``installation`` link when the host's directory knows
which branch each installation belongs to), the router asks a lookup the application layer
hands it -- built from the host's :class:`~caselib.routing.Directory` -- for that branch's
manager, who becomes the owner. Only when there is no branch, or no available manager for
it, does the case wait in the queue; the decision's explanation says which.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from caselib.errors import InvalidConfiguration
from caselib.routing.conditions import Facts, _check_field
from caselib.routing.decision import MatchKind, RouteStep
from caselib.routing.rules import _optional_text

__all__ = ["BranchManagerLookup", "BranchRouting"]

BranchManagerLookup = Callable[[str], "str | None"]
"""``manager(branch)``: the agent who should own a case of ``branch`` now, or ``None`` when
nobody is known or available (a pure function of the directory snapshot)."""


@attrs.frozen
class BranchRouting:
    """Which queue means "the branch manager", and which routing fact names the branch.

    Args:
        queue: the team queue whose new cases belong to a branch manager (the queue
            :meth:`FallbackMap.by_reason_code <caselib.routing.FallbackMap.by_reason_code>`
            sends ``site_not_ready`` and ``access_issue`` to).
        field: the routing fact holding the branch: ``custom.<name>`` (default
            ``custom.branch``; text, or a whole number such as a branch code) or any other
            single-valued fact such as ``installation`` (then the host's directory maps
            installation ids to their branch's manager).
    """

    queue: str = "branch_manager"
    field: str = "custom.branch"

    def __attrs_post_init__(self) -> None:
        try:
            _optional_text(self.queue, "branch queue")
            if self.queue is None:
                raise InvalidConfiguration("branch queue must be non-empty text, got None")
            if _check_field(self.field) == "tags":
                raise InvalidConfiguration("a case's branch is a single-valued field, not tags")
        except InvalidConfiguration as err:
            raise InvalidConfiguration(f"branch routing: {err}") from None

    def branch_of(self, facts: Facts) -> str | None:
        """The case's branch as text (a whole number becomes its digits), or ``None``."""
        value = facts.get(self.field)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
        return None

    def step(self, team: str, facts: Facts, manager: BranchManagerLookup) -> RouteStep | None:
        """The step that gives a case queued in :attr:`queue` its branch's manager.

        ``None`` when ``team`` is another queue. Otherwise a :attr:`MatchKind.BRANCH` step
        whose ``owner`` is the manager, or ``None`` with the reason the case stays queued.
        """
        if team != self.queue:
            return None
        branch = self.branch_of(facts)
        if branch is None:
            return RouteStep(
                kind=MatchKind.BRANCH,
                ref=self.field,
                team=team,
                matched_on=((self.field, None),),
                text=f"the case names no branch ({self.field}), so it waits in queue {team!r}",
            )
        owner = manager(branch)
        text = (
            f"no available manager is known for branch {branch!r}, so the case waits in "
            f"queue {team!r}"
            if owner is None
            else f"branch {branch!r} goes to its manager {owner!r}"
        )
        return RouteStep(
            kind=MatchKind.BRANCH,
            ref=self.field,
            team=team,
            owner=owner,
            matched_on=((self.field, branch),),
            text=text,
        )

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able form (for admin screens and snapshots)."""
        return {"queue": self.queue, "field": self.field}
