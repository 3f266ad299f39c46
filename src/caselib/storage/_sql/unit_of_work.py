"""The unit-of-work base class the SQLite and PostgreSQL units of work extend: the
context-manager protocol, the open check, and the shared repositories wired onto the
session.

The top of the package: it imports every repository module, and none of them imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from caselib.errors import StorageError
from caselib.storage._sql.assignment import SqlAssignments
from caselib.storage._sql.automation import SqlAutomations
from caselib.storage._sql.cases import SqlCases, SqlNumbers
from caselib.storage._sql.kb import SqlArticles, SqlKbLog
from caselib.storage._sql.links import SqlLinks
from caselib.storage._sql.mail import SqlMail
from caselib.storage._sql.outbox import SqlOutbox
from caselib.storage._sql.session import SqlSession

__all__ = [
    "SqlUnitOfWorkBase",
]


class SqlUnitOfWorkBase(SqlSession):
    """Wires the shared repositories onto a session; adapters subclass it.

    Subclasses hold their connection in ``_conn`` (``None`` once the unit of work ended)
    and implement ``commit`` / ``rollback``.
    """

    _conn: Any

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._conn is not None:
            self.rollback()

    def rollback(self) -> None:  # pragma: no cover - overridden by every adapter
        raise NotImplementedError

    def check_open(self) -> None:
        if self._conn is None:
            raise StorageError("this unit of work has already been committed or rolled back")

    def _init_repositories(self, clock: Callable[[], datetime]) -> None:
        self.cases = SqlCases(self)
        self.numbers = SqlNumbers(self)
        self.outbox = SqlOutbox(self, clock)
        self.articles = SqlArticles(self)
        self.kb_log = SqlKbLog(self)
        self.assignments = SqlAssignments(self)
        self.automations = SqlAutomations(self)
        self.links = SqlLinks(self)
        self.mail = SqlMail(self)
