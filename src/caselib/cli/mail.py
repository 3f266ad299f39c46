"""``caselib mail ingest``: one RFC 5322 message from stdin into a SQLite store's desk, for a
mail server that pipes mail to a command. Apart from the demo and the report because it is
the one command a production MTA runs."""

from __future__ import annotations

import argparse
import sys

from caselib.desk import ServiceDesk
from caselib.errors import CaselibError

__all__ = ["add_mail_parser", "mail_command"]


def add_mail_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `mail` command and its `ingest` subcommand."""
    mail = sub.add_parser("mail", help="the e-mail channel")
    inner = mail.add_subparsers(dest="mail_command", required=True)
    ingest = inner.add_parser(
        "ingest", help="take one message from stdin (for an MTA that pipes mail to a command)",
        description="Reads one RFC 5322 message from stdin and hands it to "
                    "ServiceDesk.ingest_mail; prints the outcome as JSON. Exit 0: handled "
                    "(also a duplicate or a dropped auto-reply); 2: the message was refused; "
                    "75 (EX_TEMPFAIL): the store failed, the MTA should retry. Reply keys "
                    "come from CASELIB_REPLY_KEYS='kid:hexsecret,...' (the first signs).")
    ingest.add_argument("--db", required=True, metavar="PATH.db", help="the SQLite store")
    ingest.add_argument("--tenant", default="default", help="the desk's tenant")
    ingest.add_argument("--support-address", required=True,
                        help="the support address (its domain makes case addresses)")


def mail_command(args: argparse.Namespace) -> int:
    """Run `caselib mail ingest`: 0 handled, 2 refused, 75 the store failed (retry)."""
    import json
    import os

    from caselib.desk.mail import MailSettings
    from caselib.errors import StorageError
    from caselib.mail import ReplyKeys
    from caselib.storage.sqlite import SqliteStore

    raw = sys.stdin.buffer.read()
    try:
        keys = None
        spec = os.environ.get("CASELIB_REPLY_KEYS", "")
        if spec:
            pairs = [part.split(":", 1) for part in spec.split(",") if part]
            keys = ReplyKeys({k: bytes.fromhex(v) for k, v in pairs}, pairs[0][0])
        store = SqliteStore(args.db)
    except (CaselibError, ValueError, OSError) as err:
        print(f"caselib mail ingest: {type(err).__name__}: {err}", file=sys.stderr)
        return 75
    try:
        desk = ServiceDesk(store, tenant=args.tenant)
        out = desk.ingest_mail(raw, mail_settings=MailSettings(args.support_address,
                                                               keys=keys))
    except StorageError as err:
        print(f"caselib mail ingest: {type(err).__name__}: {err}", file=sys.stderr)
        return 75
    except CaselibError as err:
        print(f"caselib mail ingest: refused: {err}", file=sys.stderr)
        return 2
    finally:
        store.close()
    decision = out.decision
    print(json.dumps({"outcome": out.outcome, "message_id": out.message_id,
                      "case_id": out.case_id,
                      "via": None if decision is None else decision.via,
                      "confidence": None if decision is None else decision.confidence,
                      "reason": None if decision is None else decision.reason}))
    return 0
