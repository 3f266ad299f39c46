"""``python -m caselib.cli``: the ``caselib`` command."""

from caselib.cli import main

if __name__ == "__main__":  # a module walk (tests, docs tools) may import this file
    raise SystemExit(main())
