"""Helpers for testing code that uses caselib (shipped in the package on purpose).

- :class:`FrozenClock` — a clock that only moves when told, so SLA tests never sleep;
- :class:`RecordingSink` / :class:`RecordingNotifier` — collect relayed events and notifications;
- :mod:`caselib.testing.strategies` — hypothesis strategies (needs ``hypothesis`` installed);
- :mod:`caselib.testing.conformance` — the storage adapter contract suite (needs ``pytest``);
- :func:`check_access_agreement` — lists and object checks agree for your own roles.
"""

from __future__ import annotations

from caselib.testing.access import AccessDisagreement, check_access_agreement
from caselib.testing.clock import FrozenClock
from caselib.testing.fakes import RecordingNotifier, RecordingSink

__all__ = [
    "AccessDisagreement",
    "FrozenClock",
    "RecordingNotifier",
    "RecordingSink",
    "check_access_agreement",
]
