"""Quickstart: a desk over the embedded SQLite store, one case from arrival to resolution.

Run: python examples/quickstart.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from caselib import Actor, ServiceDesk
from caselib.errors import NoteRequired


def main() -> None:
    try:
        from caselib.storage.sqlite import SqliteStore

        store = SqliteStore(Path(tempfile.mkdtemp()) / "support.sqlite3")
    except ImportError:  # the SQLite adapter ships with caselib; this is belt and braces
        from caselib import MemoryStore

        store = MemoryStore()  # type: ignore[assignment]

    desk = ServiceDesk(store, tenant="acme")
    agent = Actor.agent("ana")
    case = desk.create_case(
        subject="Cannot log in after password reset",
        description="Reset link works, but the new password is refused.",
        actor=Actor.customer("jane@example.com", account="acc-42"),
        priority="high",
        category="Account",
        source="portal",
        links={"account": "acc-42", "contact": "jane@example.com"},
    )
    print("created", case.number, case.status, case.priority.value)

    for status in ("open", "in_progress"):
        case = desk.transition(case.id, status, actor=agent)
    desk.add_comment(case.id, "SSO cache is stale for this tenant.", actor=agent)
    desk.add_comment(case.id, "We cleared a cache; please try again.", actor=agent,
                     audience="public")
    case = desk.transition(case.id, "pending_customer", actor=agent)

    try:
        desk.resolve(case.id, "", actor=agent)
    except NoteRequired as err:
        print("refused:", err)

    case = desk.resolve(case.id, "Cleared stale SSO cache", actor=agent, code="config")
    print("resolved", case.number, "with", case.resolution.summary if case.resolution else None)
    print("allowed next:", desk.allowed_transitions(case))
    print("customer sees", [r.body for r in desk.customer_view(case.id, actor=agent).replies])
    store.close()


if __name__ == "__main__":
    main()
