"""Storage adapters shipped with caselib.

- :mod:`caselib.storage.memory` — the thread-safe reference adapter (tests, demos, prototypes);
- :mod:`caselib.storage.sqlite` — the embedded default, stdlib ``sqlite3`` only;
- :mod:`caselib.storage.postgres` — for hosts running many processes
  (extra ``caselib-engine[postgres]``).

:mod:`caselib.storage.codec` turns cases into plain JSON-ready data and back; adapters for
document or relational databases build on it.
"""
