"""Actors the tests share."""

from caselib import Actor

READER = Actor.agent("reader")
"""An agent that only reads: on a desk without an access policy it reads every case."""

EDITOR = Actor.agent("editor", "admin")
"""An agent with the admin role: edits the knowledge base, runs sweeps."""
