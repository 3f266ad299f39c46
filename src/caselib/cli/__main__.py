"""``python -m caselib.cli``: the ``caselib`` command."""

from caselib.cli import main

raise SystemExit(main())
