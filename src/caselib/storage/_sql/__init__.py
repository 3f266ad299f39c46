"""What the SQLite and PostgreSQL stores share: schema-independent SQL builders, row codecs,
query compilation, the connection pool. Private to :mod:`caselib.storage`.

One spelling of every query for both adapters (why that is sound:
:mod:`~caselib.storage._sql.queries`), one module a job:

- :mod:`~caselib.storage._sql.columns` — column orders of the ``cases`` table, the active
  predicate, what a load returns;
- :mod:`~caselib.storage._sql.dialect` — the two dialects and the INSERT / UPDATE builders;
- :mod:`~caselib.storage._sql.jsontext` — the JSON text of the document columns;
- :mod:`~caselib.storage._sql.rows` — cases to rows and back, batch-import rows;
- :mod:`~caselib.storage._sql.queries` — a ``CaseQuery`` compiled to SQL, pages read back;
- :mod:`~caselib.storage._sql.session` — the driver interface the repositories use;
- :mod:`~caselib.storage._sql.cases` — the case repository (with the sweep's part) and the
  case counter;
- :mod:`~caselib.storage._sql.outbox` — the outbox relay's side;
- :mod:`~caselib.storage._sql.kb` — articles and the deflection log;
- :mod:`~caselib.storage._sql.assignment` — the assignment ledger;
- :mod:`~caselib.storage._sql.unit_of_work` — the unit-of-work base the adapters extend;
- :mod:`~caselib.storage._sql.pool` — the connection pool.
"""

from __future__ import annotations

from caselib.storage._sql.assignment import SqlAssignments
from caselib.storage._sql.cases import (
    SqlCases,
    SqlNumbers,
)
from caselib.storage._sql.columns import (
    ACTIVE_CATEGORIES_SQL,
    CASE_COLUMNS,
    CATEGORY_INDEX,
    QUEUE_INDEX,
    SCOPE_INDEXES,
    STORED_COLUMNS,
    SUMMARY_COLUMNS,
    Loaded,
)
from caselib.storage._sql.dialect import (
    SqlDialect,
    insert_sql,
    update_case_sql,
)
from caselib.storage._sql.jsontext import (
    dumps,
    loads,
)
from caselib.storage._sql.kb import (
    SqlArticles,
    SqlKbLog,
    article_from_row,
    article_row,
    between_sql,
    deflection_from_json,
    deflection_json,
    resolved_from_json,
    resolved_json,
    shown_from_json,
    shown_json,
)
from caselib.storage._sql.links import SqlLinks
from caselib.storage._sql.outbox import SqlOutbox
from caselib.storage._sql.pool import ConnectionPool
from caselib.storage._sql.queries import (
    count_by_status_sql,
    count_sql,
    open_counts_sql,
    page_from_rows,
    query_sql,
    query_tail,
)
from caselib.storage._sql.rows import (
    case_row,
    entry_json,
    event_rows,
    import_rows,
    outbox_rows,
    summary_from_row,
    tag_rows,
    timeline_rows,
)
from caselib.storage._sql.session import SqlSession
from caselib.storage._sql.unit_of_work import SqlUnitOfWorkBase

__all__ = [
    "ACTIVE_CATEGORIES_SQL",
    "CASE_COLUMNS",
    "CATEGORY_INDEX",
    "ConnectionPool",
    "Loaded",
    "QUEUE_INDEX",
    "SCOPE_INDEXES",
    "STORED_COLUMNS",
    "SUMMARY_COLUMNS",
    "SqlArticles",
    "SqlAssignments",
    "SqlCases",
    "SqlDialect",
    "SqlKbLog",
    "SqlLinks",
    "SqlNumbers",
    "SqlOutbox",
    "SqlSession",
    "SqlUnitOfWorkBase",
    "article_from_row",
    "article_row",
    "between_sql",
    "case_row",
    "count_by_status_sql",
    "count_sql",
    "deflection_from_json",
    "deflection_json",
    "dumps",
    "entry_json",
    "event_rows",
    "import_rows",
    "insert_sql",
    "loads",
    "open_counts_sql",
    "outbox_rows",
    "page_from_rows",
    "query_sql",
    "query_tail",
    "resolved_from_json",
    "resolved_json",
    "shown_from_json",
    "shown_json",
    "summary_from_row",
    "tag_rows",
    "timeline_rows",
    "update_case_sql",
]
