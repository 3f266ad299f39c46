"""Shared test setup: hypothesis profiles and common fixtures.

Profiles: ``dev`` (default, quick), ``ci`` (more examples, still inside the CI time budget;
selected when ``CI`` is set), ``thorough`` (for a long local run:
``HYPOTHESIS_PROFILE=thorough pytest``).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

from caselib import Actor, MemoryStore, ServiceDesk
from caselib.testing import FrozenClock
from pg import pg_schema  # noqa: F401  (fixture: a fresh PostgreSQL schema per test)

settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 2026-01-05 09:00 UTC, frozen."""
    return FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def agent() -> Actor:
    return Actor.agent("ana")


@pytest.fixture
def desk(clock: FrozenClock) -> ServiceDesk:
    """A desk over a fresh in-memory store, tenant ``acme``."""
    return ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
