"""The example adapter in ``examples/custom_adapter.py`` passes the storage contract."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from caselib.testing.conformance import StoreContract

_PATH = Path(__file__).resolve().parent.parent / "examples" / "custom_adapter.py"


def _load() -> Any:
    # examples/ is not a package; load the file as a module under a private name so its own
    # Test class is not collected a second time from here
    spec = importlib.util.spec_from_file_location("caselib_example_custom_adapter", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = _load()


class TestExampleAdapter(StoreContract):
    """``JsonDictStore`` from the example passes every contract test."""

    @pytest.fixture
    def store(self) -> Iterator[Any]:
        store = example.JsonDictStore()
        yield store
        store.close()
