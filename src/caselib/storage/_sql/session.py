"""The unit of work, written once over a small driver interface: :class:`SqlSession` is
that interface, what each driver adapter (``sqlite3``, psycopg) provides.

Its own module because every repository is written against it and the unit-of-work base
class that wires them extends it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from caselib.storage._sql.columns import Loaded
from caselib.storage._sql.dialect import SqlDialect, insert_sql

__all__ = [
    "SqlSession",
]


class SqlSession(abc.ABC):
    """What a driver adapter provides; the repositories below are written against it.

    ``read`` statements may run outside the write transaction (SQLite) or inside it
    (PostgreSQL); ``write`` statements always run inside this unit of work's transaction.
    Implementations translate driver errors into :class:`~caselib.errors.StorageError`
    subclasses.
    """

    tenant: str
    dialect: SqlDialect

    @abc.abstractmethod
    def fetch(self, sql: str, params: Sequence[Any] = (), *, write: bool = False
              ) -> list[tuple[Any, ...]]:
        """Run a query and return every row (``write=True``: inside the write transaction)."""

    @abc.abstractmethod
    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a writing statement in the transaction; return its row count."""

    @abc.abstractmethod
    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a writing statement once per row, in the transaction.

        The statement may be *deferred*: sent with the next statement whose result is needed,
        or with the commit (PostgreSQL's pipeline). Its errors then surface there, still as
        caselib errors and still before anything is committed; the caller must not need its
        outcome (use :meth:`run` for that).
        """

    def insert_many(self, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (values in ``columns`` order) into ``table``; may be deferred, as
        :meth:`run_many` is. By default the one-row INSERT once per row; a dialect where a
        statement costs more than a row (PostgreSQL) sends multi-row INSERTs instead."""
        if rows:
            self.run_many(insert_sql(table, columns, self.dialect), rows)

    def write(self, sql: str, params: Sequence[Any] = ()) -> None:
        """:meth:`run` without the row count: may be deferred, as :meth:`run_many` is.

        For writes whose only possible failure is an error (a unique key, a foreign key):
        a version-guarded UPDATE goes through :meth:`run`, unless the row is locked by this
        unit of work (then it cannot miss).
        """
        self.run(sql, params)

    @abc.abstractmethod
    def lock_case(self, case_id: str) -> None:
        """Take the write lock on the case ``case_id`` (or more) for the rest of the unit
        of work, waiting for other holders; the next load then reads what they committed."""

    def lock_cases(self, case_ids: Sequence[str]) -> None:
        """:meth:`lock_case` of each of ``case_ids`` (in id order, so two units of work that
        lock overlapping sets cannot deadlock); a store may do it in one statement."""
        for case_id in sorted(case_ids):
            self.lock_case(case_id)

    @abc.abstractmethod
    def load_case(self, column: str, value: str) -> Loaded | None:
        """``(document, [timeline entry, …], stored column values)`` of the case whose
        ``column`` is ``value``, read in one consistent snapshot; ``None`` if absent."""

    @abc.abstractmethod
    def load_cases(self, case_ids: Sequence[str]) -> list[Loaded]:
        """:meth:`load_case` for each existing case among ``case_ids`` (no repeats, in any
        order), read in one consistent snapshot."""

    @abc.abstractmethod
    def load_where(self, tail: str, params: Sequence[Any], *, claim: bool = False
                   ) -> list[Loaded]:
        """:meth:`load_case` for each case ``SELECT … FROM cases c WHERE {tail}`` finds, in
        that statement's order, read in one consistent snapshot (``tail`` from
        :func:`query_tail`).

        ``claim``: lock the cases found for this unit of work, leaving out those another
        unit of work has locked (``FOR UPDATE SKIP LOCKED``); the timelines are then read
        after the locks are held. Ignored by a dialect without ``SKIP LOCKED``.
        """

    @abc.abstractmethod
    def check_open(self) -> None:
        """Raise :class:`StorageError` when the unit of work is finished."""
