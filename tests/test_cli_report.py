"""``caselib report``: the period it reads, and the clear refusals (missing file, a database
that is not caselib's, bad dates, unknown groups) with a non-zero exit and nothing written."""

from __future__ import annotations

import argparse
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from caselib.cli import main, report_period


def _args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"start": None, "to": None, "days": None, **given})


TODAY = date(2026, 3, 10)


class TestPeriod:
    def test_default_is_the_last_thirty_days_with_today(self) -> None:
        start, end = report_period(_args(), TODAY)
        assert (start, end) == (datetime(2026, 2, 9, tzinfo=UTC),
                                datetime(2026, 3, 11, tzinfo=UTC))

    def test_from_and_to_include_both_days(self) -> None:
        start, end = report_period(_args(start=date(2026, 3, 1), to=date(2026, 3, 7)), TODAY)
        assert (start, end) == (datetime(2026, 3, 1, tzinfo=UTC),
                                datetime(2026, 3, 8, tzinfo=UTC))

    def test_days(self) -> None:
        start, end = report_period(_args(days=1), TODAY)
        assert (start, end) == (datetime(2026, 3, 10, tzinfo=UTC),
                                datetime(2026, 3, 11, tzinfo=UTC))

    @pytest.mark.parametrize(("given", "message"), [
        ({"start": date(2026, 3, 5), "to": date(2026, 3, 1)}, "before --from"),
        ({"to": date(2026, 3, 1)}, "--to needs --from"),
        ({"start": date(2026, 3, 1), "days": 3}, "not both"),
    ])
    def test_refusals(self, given: dict[str, object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            report_period(_args(**given), TODAY)


class TestRefusals:
    def test_a_missing_store(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        missing = tmp_path / "nope.db"
        assert main(["report", "--store", str(missing)]) == 1
        assert "no store at" in capsys.readouterr().err
        assert not missing.exists()  # the report did not create an empty store

    def test_a_file_that_is_not_a_database(self, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
        text = tmp_path / "notes.db"
        text.write_text("hello", encoding="utf-8")
        assert main(["report", "--store", str(text)]) == 1
        assert "is not a SQLite database" in capsys.readouterr().err

    def test_someone_elses_database_is_left_alone(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        other = tmp_path / "crm.db"
        with sqlite3.connect(other) as conn:
            conn.execute("CREATE TABLE contacts (id INTEGER)")
        conn.close()
        assert main(["report", "--store", str(other)]) == 1
        assert "not a caselib store" in capsys.readouterr().err
        with sqlite3.connect(other) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        conn.close()
        assert tables == {"contacts"}  # no caselib tables written into it

    @pytest.mark.parametrize(("argv", "message"), [
        (["--from", "2026-13-01"], "is not a date; write it as YYYY-MM-DD"),
        (["--days", "0"], "from 1 to 400"),
        (["--from", "2025-01-01", "--to", "2026-03-01"], "at most 400 days"),
        (["--group-by", "colour"], "invalid choice: 'colour'"),
        (["--format", "pdf"], "invalid choice: 'pdf'"),
        (["--from", "2026-03-05", "--to", "2026-03-01"], "is before --from"),
    ])
    def test_bad_arguments(self, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           argv: list[str], message: str) -> None:
        with pytest.raises(SystemExit) as exit_:
            main(["report", "--store", str(tmp_path / "x.db"), *argv], today=TODAY)
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err
