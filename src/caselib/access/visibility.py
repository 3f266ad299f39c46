"""Which cases an actor reaches, as one declarative filter: :class:`Visibility`.

The same value answers both questions a policy is asked — "may this actor touch this case?"
(:meth:`Visibility.admits`) and "which cases does this actor's list show?" (the stores
compile it into their query: a predicate in memory, a ``WHERE`` clause with bound parameters
in SQL). One value for both is what keeps object checks and list views from drifting apart.
"""

from __future__ import annotations

import attrs

from caselib.checks import bool_attribute, str_set

__all__ = ["Visibility"]


def _teams(value: object) -> frozenset[str]:
    return str_set(value, "teams")


def _assignees(value: object) -> frozenset[str]:
    return str_set(value, "assignees")


def _contacts(value: object) -> frozenset[str]:
    return str_set(value, "contacts")


def _accounts(value: object) -> frozenset[str]:
    return str_set(value, "accounts")


@attrs.frozen
class Visibility:
    """A union of clauses: every case (``everything``), or any case whose team is in
    ``teams``, whose assignee is in ``assignees``, whose contact is in ``contacts`` or whose
    account is in ``accounts``. Empty sets and ``everything=False``: no case at all.
    """

    everything: bool = attrs.field(default=False, validator=bool_attribute)
    teams: frozenset[str] = attrs.field(default=frozenset(), converter=_teams)
    assignees: frozenset[str] = attrs.field(
        default=frozenset(), converter=_assignees)
    contacts: frozenset[str] = attrs.field(
        default=frozenset(), converter=_contacts)
    accounts: frozenset[str] = attrs.field(
        default=frozenset(), converter=_accounts)

    @classmethod
    def all(cls) -> Visibility:
        """Every case of the tenant."""
        return cls(everything=True)

    @classmethod
    def none(cls) -> Visibility:
        """No case at all."""
        return cls()

    @property
    def is_everything(self) -> bool:
        return self.everything

    @property
    def is_nothing(self) -> bool:
        return not (self.everything or self.teams or self.assignees or self.contacts
                    or self.accounts)

    def admits(self, *, team: str | None, assignee: str | None, contact: str | None,
               account: str | None) -> bool:
        """Whether a case with these columns is visible (the reference the stores mirror)."""
        return (
            self.everything
            or (team is not None and team in self.teams)
            or (assignee is not None and assignee in self.assignees)
            or (contact is not None and contact in self.contacts)
            or (account is not None and account in self.accounts)
        )

    def union(self, other: Visibility) -> Visibility:
        """Cases visible through either."""
        if self.everything or other.everything:
            return Visibility.all()
        return Visibility(
            False, self.teams | other.teams, self.assignees | other.assignees,
            self.contacts | other.contacts, self.accounts | other.accounts,
        )
