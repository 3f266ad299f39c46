"""The Python examples in the README and docs/*.md really run.

Blocks written as doctests (``>>>``) are collected by pytest itself (``testpaths`` includes
``docs`` and ``--doctest-glob='*.md'``). This module runs the other fenced ``python`` blocks:
each file's blocks in order, in one namespace, in a fresh working directory, so a README
example that opens ``support.sqlite3`` writes into a temporary folder. A block that cannot run
on its own (it names the reader's own class, or a remote server) says so in the line right
above it::

    <!-- docs-test: skip (why) -->
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)
_SKIP = re.compile(r"<!-- docs-test: skip \((?P<why>[^)]+)\) -->\s*$")


def python_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """``(line, code, skip reason or None)`` for every non-doctest ``python`` block."""
    blocks = []
    for match in _FENCE.finditer(text):
        code = match.group("code")
        if match.group("lang") not in ("python", "py") or code.lstrip().startswith(">>>"):
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = _SKIP.search(before)
        blocks.append((text.count("\n", 0, match.start()) + 1, code,
                       skip.group("why") if skip else None))
    return blocks


def _with_blocks() -> list[Path]:
    return [path for path in FILES if python_blocks(path.read_text(encoding="utf-8"))]


def run_blocks(path: Path) -> int:
    """Run the file's unmarked blocks in order in one namespace; how many ran."""
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    ran = 0
    for line, code, skip in python_blocks(path.read_text(encoding="utf-8")):
        if skip is None:
            exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
            ran += 1
    return ran


@pytest.mark.parametrize("path", _with_blocks(), ids=lambda p: p.name)
def test_python_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every unmarked block of the file runs, top to bottom, without raising."""
    monkeypatch.chdir(tmp_path)
    run_blocks(path)


class TestTheBlockFinder:
    """The finder picks the blocks it should (so the test above can fail)."""

    def test_finds_plain_python_and_skips_doctests_and_other_languages(self) -> None:
        """Doctests are pytest's; bash and text blocks are not Python."""
        text = "```python\nx = 1\n```\n```python\n>>> 1\n1\n```\n```bash\nls\n```\n"
        assert python_blocks(text) == [(1, "x = 1\n", None)]

    def test_a_marked_block_carries_its_reason(self) -> None:
        """The marker right above a block skips it, with the reason kept for the reader."""
        text = "<!-- docs-test: skip (needs your store) -->\n```python\nimport my_store\n```\n"
        assert python_blocks(text) == [(2, "import my_store\n", "needs your store")]

    def test_a_failing_block_fails(self, tmp_path: Path) -> None:
        """A block that raises makes its file's run raise; later blocks see earlier names."""
        page = tmp_path / "page.md"
        page.write_text("```python\nx = 'broken example'\n```\n"
                        "```python\nraise RuntimeError(x)\n```\n", encoding="utf-8")
        with pytest.raises(RuntimeError, match="broken example"):
            run_blocks(page)

    def test_a_marked_block_is_not_run(self, tmp_path: Path) -> None:
        """Only the unmarked blocks run (the marked one would raise)."""
        page = tmp_path / "page.md"
        page.write_text("```python\nx = 1\n```\n<!-- docs-test: skip (remote server) -->\n"
                        "```python\nraise RuntimeError\n```\n", encoding="utf-8")
        assert run_blocks(page) == 1
