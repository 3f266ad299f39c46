"""Looks at a SQLite file before a command opens it as a store. Opening a store creates and
migrates it, so a command handed a mistyped path would make an empty store (mail piped into
it is never read again) and one handed someone else's database would write caselib tables
into it; these checks are read-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

__all__ = ["check_store_file", "read_only"]


def read_only(path: Path, sql: str) -> list[Any]:
    """The rows of ``sql`` on the SQLite file at ``path``, opened read-only (a look before
    the store is opened, which would migrate it)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def check_store_file(path: Path) -> str | None:
    """Why ``path`` is not a caselib SQLite store, or ``None`` when it is one. Checked
    read-only first, because opening a store migrates it: a report must never write caselib
    tables into someone else's database."""
    if not path.is_file():
        return f"no store at {path}: give the path of a caselib SQLite database (.db file)"
    try:
        found = read_only(path, "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                "AND name = 'schema_version'")
    except sqlite3.Error as err:
        return f"{path} is not a SQLite database ({err})"
    if not found:
        return f"{path} is a SQLite database but not a caselib store (no schema_version table)"
    return None
