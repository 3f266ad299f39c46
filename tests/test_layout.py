"""The import rules of docs/concepts.md ("Where things live"), checked on the source tree.

Each package of ``src/caselib`` sits on a layer and may import only the layers its row allows.
The domain packages never import the desk, a store, the CLI or a driver, and no two packages
import each other in a circle. The rules are read from the source with :mod:`ast` (nothing is
imported), so a forbidden import fails here even when it sits in a branch that never runs.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "caselib"

GROUND = frozenset({"errors", "checks", "vocab", "timeutil", "_version"})
"""The shared ground floor: every package may import it; it imports only itself."""

DOMAIN = frozenset(
    {"cases", "sla", "routing", "kb", "access", "reports", "automation", "mail"}
)
"""Pure domain packages: no I/O, no store, no clock reads."""

ALLOWED: Mapping[str, frozenset[str]] = {
    **dict.fromkeys(GROUND, GROUND),
    **dict.fromkeys(DOMAIN, GROUND | DOMAIN),
    "ports": GROUND | DOMAIN | {"ports"},
    "desk": GROUND | DOMAIN | {"ports", "desk"},
    "storage": GROUND | DOMAIN | {"ports", "storage"},
    "adapters": GROUND | DOMAIN | {"ports", "adapters"},
    "serialize": GROUND | DOMAIN | {"ports", "desk", "serialize"},
    "testing": GROUND | DOMAIN | {"ports", "desk", "storage", "serialize", "testing"},
    "cli": GROUND | DOMAIN | {"ports", "desk", "storage", "adapters", "serialize", "testing",
                              "cli", "_webdemo"},
    # `caselib demo --web`: seeds through the cli's demo, serves examples/webapp over a desk
    "_webdemo": GROUND | DOMAIN | {"ports", "desk", "_webdemo"},
}
"""Which caselib packages each package may import (``caselib`` itself, the public API that
re-exports everything, may be imported by ``cli`` and ``testing`` only)."""

DOMAIN_THIRD_PARTY = frozenset({"attrs", "statemachine", "pendulum", "snowballstemmer", "holidays"})
"""Third-party modules a domain package may import (the last two lazily, as optional extras)."""

DRIVERS = frozenset(
    {"sqlite3", "socket", "ssl", "smtplib", "imaplib", "poplib", "http", "urllib", "subprocess",
     "asyncio", "selectors", "concurrent", "multiprocessing", "psycopg", "psycopg_pool"}
)
"""Standard-library and driver modules that do I/O or run work elsewhere: never in the domain."""


MAX_LINES = 600

LONGER: Mapping[str, str] = {
    "cases/case.py": "the Case aggregate: one class whose commands share the validate-then-"
                     "change rule and the timeline helpers; splitting it would mean mixins",
    "desk/service.py": "ServiceDesk: the facade hosts read as the API, one delegating method "
                       "with its docstring per use case; the use cases themselves live in "
                       "the other desk modules",
    "kb/index.py": "KbIndex: one BM25F index whose build, incremental updates and pruned "
                   "search share the postings layout (its storage already sits in postings.py; "
                   "the semantic scorer's ports and fusion in semantic.py)",
}
"""Modules allowed over :data:`MAX_LINES`, each with the reason."""


def package_of(module: str) -> str:
    """``caselib.sla.policy`` → ``sla``; ``caselib`` (or its ``__init__``) → ``caselib``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__init__" else parts[0]


def module_name(path: Path, root: Path) -> str:
    """``src/caselib/sla/__init__.py`` → ``caselib.sla.__init__`` (so relative imports resolve)."""
    return ".".join(path.relative_to(root.parent).with_suffix("").parts)


def imports_of(module: str, source: str) -> list[tuple[str, int]]:
    """Every module that ``source`` imports (absolute names), with its line number."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                name = ".".join([*base, node.module or ""]).strip(".")
            else:
                name = node.module or ""
            found.append((name, node.lineno))
            # ``from caselib import storage`` imports the package ``caselib.storage``
            if name == "caselib":
                found.extend((f"caselib.{alias.name}", node.lineno) for alias in node.names
                             if alias.name in ALLOWED)
    return found


def violations(modules: Mapping[str, str]) -> list[str]:
    """The rule breaks in ``modules`` (module name → source), one readable line each."""
    problems: list[str] = []
    edges: dict[str, set[str]] = {}
    for module, source in sorted(modules.items()):
        own = package_of(module)
        if own == "caselib":
            continue  # the public API re-exports every package on purpose
        for target, line in imports_of(module, source):
            top = target.split(".")[0]
            where = f"{module}:{line} imports {target}"
            if top == "caselib":
                other = package_of(target)
                if other == own:
                    continue
                edges.setdefault(own, set()).add(other)
                if other == "caselib":
                    if own not in {"cli", "testing"}:
                        problems.append(f"{where}: only cli and testing may import the root")
                elif other not in ALLOWED.get(own, frozenset()):
                    problems.append(f"{where}: {own} may not import {other}")
            elif own in DOMAIN | GROUND:
                if top in DRIVERS:
                    problems.append(f"{where}: a domain module does no I/O")
                elif top not in sys.stdlib_module_names and top not in DOMAIN_THIRD_PARTY:
                    problems.append(f"{where}: not a domain dependency")
    problems.extend(f"import circle: {' -> '.join(cycle)}" for cycle in circles(edges))
    return problems


def circles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every package that can reach itself again, as one path round the circle."""
    found: list[list[str]] = []
    seen_cycles: set[frozenset[str]] = set()
    for start in sorted(edges):
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        visited: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    key = frozenset(path)
                    if key not in seen_cycles:
                        seen_cycles.add(key)
                        found.append([*path, start])
                elif nxt not in visited:
                    visited.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return found


def _name_kind(name: str) -> int:
    core = name.strip("_")
    if core.upper() == core and any(c.isalpha() for c in core):
        return 0  # CONSTANTS
    return 1 if core[:1].isupper() else 2  # Classes, then functions


def unsorted_all(modules: Mapping[str, str]) -> list[str]:
    """Modules whose ``__all__`` is sorted neither plainly (``sorted``) nor isort-style
    (constants, classes, functions, each sorted: ruff's RUF022), with the first name out of
    place. A sorted ``__all__`` is where a reader looks a name up."""
    problems = []
    for module, source in sorted(modules.items()):
        for node in ast.parse(source).body:
            target = (node.targets[0] if isinstance(node, ast.Assign) and node.targets
                      else node.target if isinstance(node, ast.AnnAssign) else None)
            if not (isinstance(target, ast.Name) and target.id == "__all__"
                    and isinstance(node.value, ast.List | ast.Tuple)):
                continue
            names = [e.value for e in node.value.elts
                     if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            isort = sorted(names, key=lambda n: (_name_kind(n), n))
            if names not in (sorted(names), isort):
                at = next(i for i, (a, b) in enumerate(zip(names, isort, strict=True)) if a != b)
                problems.append(f"{module}: __all__ is not sorted ({names[at]!r} at {at})")
    return problems


def source_tree(root: Path = SRC) -> dict[str, str]:
    return {module_name(p, root): p.read_text(encoding="utf-8") for p in root.rglob("*.py")}


class TestTheTree:
    """The real source tree keeps the rooms as drawn."""

    def test_no_rule_is_broken(self) -> None:
        """No forbidden import and no circle between packages in src/caselib."""
        assert violations(source_tree()) == []

    def test_every_package_has_a_row(self) -> None:
        """A new package must be given its place in the layers before it lands."""
        packages = {package_of(m) for m in source_tree()} - {"caselib"}
        assert packages <= set(ALLOWED)

    def test_every_all_is_sorted(self) -> None:
        """The brief's sorted ``__all__``, in every module that has one."""
        assert unsorted_all(source_tree()) == []

    def test_no_module_is_left_named_core(self) -> None:
        """Modules are named after what they hold."""
        assert not list(SRC.rglob("core.py"))

    def test_modules_stay_small(self) -> None:
        """No module over MAX_LINES unless LONGER says why (a newcomer reads one room)."""
        too_long = {
            str(p.relative_to(SRC)): n
            for p in SRC.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
            and str(p.relative_to(SRC)) not in LONGER
        }
        assert too_long == {}

    def test_every_long_module_still_needs_its_exception(self) -> None:
        """An exception whose module shrank (or went away) is dropped from LONGER."""
        stale = [name for name in LONGER
                 if not (SRC / name).exists()
                 or len((SRC / name).read_text(encoding="utf-8").splitlines()) <= MAX_LINES]
        assert stale == []


class TestTheChecker:
    """The checker itself catches what it is for (so the tree test can fail)."""

    def test_a_domain_module_importing_storage_is_refused(self) -> None:
        """``import caselib.storage`` in a domain module is a violation."""
        tree = {"caselib.sla.policy": "import caselib.storage\n"}
        assert violations(tree) == [
            "caselib.sla.policy:1 imports caselib.storage: sla may not import storage"
        ]

    @pytest.mark.parametrize(
        "line",
        [
            "from caselib.desk import ServiceDesk",
            "from caselib import storage",
            "from caselib.cli import main",
            "import sqlite3",
            "import psycopg",
            "from caselib import ServiceDesk",
            "from caselib.ports import Store",
        ],
    )
    def test_each_forbidden_import_of_the_domain(self, line: str) -> None:
        """desk, storage, cli, the root, ports and drivers are all out of the domain's reach."""
        assert violations({"caselib.kb.index": line + "\n"})

    def test_allowed_imports_pass(self) -> None:
        """Domain to domain, to the ground floor, to attrs; desk to storage-free ports."""
        tree = {
            "caselib.sla.clock": "import attrs\nfrom caselib.cases import Case\n"
                                 "from caselib.errors import InvalidInput\nimport re\n",
            "caselib.desk.service": "from caselib.ports import Store\nfrom caselib.sla import x\n",
            "caselib.storage.sqlite": "import sqlite3\nfrom caselib.ports import Store\n",
        }
        assert violations(tree) == []

    def test_a_circle_between_packages_is_refused(self) -> None:
        """cases → sla → cases is a circle even though each edge is allowed."""
        tree = {
            "caselib.cases.case": "from caselib.sla import SlaCase\n",
            "caselib.sla.breach": "from caselib.cases import Case\n",
        }
        assert violations(tree) == ["import circle: cases -> sla -> cases"]

    def test_a_longer_circle_is_found(self) -> None:
        """kb → routing → sla → kb."""
        tree = {
            "caselib.kb.a": "from caselib.routing import x\n",
            "caselib.routing.b": "from caselib.sla import y\n",
            "caselib.sla.c": "from caselib.kb import z\n",
        }
        assert violations(tree) == ["import circle: kb -> routing -> sla -> kb"]

    def test_relative_imports_are_resolved(self) -> None:
        """``from ..storage import x`` inside caselib.sla.policy names caselib.storage."""
        tree = {"caselib.sla.policy": "from ..storage import memory\n"}
        assert violations(tree) == [
            "caselib.sla.policy:1 imports caselib.storage: sla may not import storage"
        ]

    def test_an_unsorted_all_is_found_and_both_orders_pass(self) -> None:
        """Plain and isort-style orders pass; a swapped pair is named."""
        tree = {
            "caselib.a": '__all__ = ["A_CONST", "Bee", "cee"]\n',
            "caselib.b": '__all__ = ["Bee", "C_CONST", "cee"]\n',
            "caselib.c": '__all__ = ["Bee", "Ant"]\n',
        }
        assert unsorted_all(tree) == ["caselib.c: __all__ is not sorted ('Bee' at 0)"]
