"""``caselib report``: the period it reads, and the clear refusals (missing file, a database
that is not caselib's, bad dates, unknown groups) with a non-zero exit and nothing written."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from caselib.cli import REPORT_ACTOR, main, report_period
from caselib.desk import ServiceDesk
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock
from scorecards import WEEK, build_history


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


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A small real SQLite store: tests/scorecards.py's week, written through the desk."""
    db = tmp_path / "support.db"
    store = SqliteStore(db)
    try:
        clock = FrozenClock(WEEK)
        build_history(ServiceDesk(store, tenant="acme", clock=clock), clock)
    finally:
        store.close()
    return db


WEEK_ARGS = ["--tenant", "acme", "--from", "2026-03-02", "--to", "2026-03-08"]


class TestOnARealStore:
    def test_a_tenant_without_cases_names_the_ones_there(
            self, store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Without --tenant the report reads 'default'; an all-zero scorecard of a store
        that holds another tenant's cases says which (on stderr, still exit 0)."""
        assert main(["report", "--store", str(store_path), "--from", "2026-03-02",
                     "--to", "2026-03-08"]) == 0
        captured = capsys.readouterr()
        assert captured.out.startswith("Scorecard 2026-03-02")
        assert "tenant 'default' has no cases in this store" in captured.err
        assert "'acme' (" in captured.err and "pass --tenant acme" in captured.err
        assert main(["report", "--store", str(store_path), *WEEK_ARGS]) == 0
        assert capsys.readouterr().err == ""

    def test_table(self, store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["report", "--store", str(store_path), *WEEK_ARGS,
                     "--group-by", "team"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("Scorecard 2026-03-02 – 2026-03-08 (UTC), by team")
        total = next(line for line in out.splitlines() if line.startswith("TOTAL")).split()
        assert total[:5] == ["TOTAL", "8", "6", "0", "0→2"]

    def test_json(self, store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["report", "--store", str(store_path), *WEEK_ARGS, "--format", "json",
                     "--group-by", "priority"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert (doc["document"], doc["group_by"]) == ("scorecard", "priority")
        assert doc["total"]["created"] == 8 and len(doc["series"]) == 7
        assert sorted(r["group"] for r in doc["rows"]) == ["high", "low", "normal", "urgent"]

    def test_csv_to_a_file(self, store_path: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "week.csv"
        assert main(["report", "--store", str(store_path), *WEEK_ARGS, "--format", "csv",
                     "--group-by", "channel", "--out", str(out)]) == 0
        assert f"wrote csv to {out}" in capsys.readouterr().err
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert {r["group"] for r in rows if r["row"] == "group"} == {"email", "portal", "phone"}
        assert rows[-1]["row"] == "total" and rows[-1]["created"] == "8"

    def test_html(self, store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["report", "--store", str(store_path), *WEEK_ARGS, "--format", "html"]) == 0
        page = capsys.readouterr().out
        for chart in ("volume", "resolution", "sla", "deflection"):
            assert f'id="chart-{chart}"' in page
        assert ">urgent<" in page  # the SLA chart was split by priority

    def test_days_counts_back_from_today(self, store_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["report", "--store", str(store_path), "--tenant", "acme", "--days", "7",
                     "--format", "json"], today=date(2026, 3, 8)) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["period"]["start"].startswith("2026-03-02T00:00")
        assert doc["total"]["created"] == 8

    def test_another_tenant_reads_nothing(self, store_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["report", "--store", str(store_path), "--from", "2026-03-02",
                     "--to", "2026-03-08", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["total"]["created"] == 0

    def test_the_reader_is_a_system_actor(self) -> None:
        """Whoever opens the file can read every case anyway (see caselib.cli)."""
        assert REPORT_ACTOR.is_admin and REPORT_ACTOR.id == "caselib-report"
