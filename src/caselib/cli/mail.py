"""``caselib mail ingest``: one RFC 5322 message from stdin into a SQLite store's desk, for a
mail server that pipes mail to a command. Apart from the demo and the report because it is
the one command a production MTA runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from caselib.cli.storefile import check_store_file
from caselib.desk import ServiceDesk
from caselib.errors import CaselibError, InvalidConfiguration
from caselib.mail import ReplyKeys

__all__ = ["add_mail_parser", "mail_command", "reply_keys"]


def add_mail_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `mail` command and its `ingest` subcommand."""
    mail = sub.add_parser("mail", help="the e-mail channel")
    inner = mail.add_subparsers(dest="mail_command", required=True)
    ingest = inner.add_parser(
        "ingest", help="take one message from stdin (for an MTA that pipes mail to a command)",
        description="Reads one RFC 5322 message from stdin and hands it to "
                    "ServiceDesk.ingest_mail; prints the outcome as JSON. Exit 0: handled "
                    "(also a duplicate or a dropped auto-reply); 2: the message was refused; "
                    "75 (EX_TEMPFAIL): the store failed or is not there (a missing --db "
                    "file is refused unless --create), the MTA should retry. Reply keys "
                    "come from CASELIB_REPLY_KEYS='kid:hexsecret,...' (the first signs).")
    ingest.add_argument("--db", required=True, metavar="PATH.db",
                        help="the SQLite store; it must exist (a mistyped path would "
                             "otherwise make a new, empty store nobody reads)")
    ingest.add_argument("--create", action="store_true",
                        help="make the store at --db when no file (or an empty one) is "
                             "there yet")
    ingest.add_argument("--tenant", default="default", help="the desk's tenant")
    ingest.add_argument("--support-address", required=True,
                        help="the support address (its domain makes case addresses)")


def reply_keys(spec: str) -> ReplyKeys | None:
    """``CASELIB_REPLY_KEYS`` (``kid:hexsecret,...``, the first signs) as :class:`ReplyKeys`;
    ``None`` when empty. A malformed value is an :class:`InvalidConfiguration` naming the
    entry and the expected form (it was a bare ``ValueError`` from tuple unpacking)."""
    entries = [part.strip() for part in spec.split(",") if part.strip()]
    if not entries:
        return None
    keys: dict[str, bytes] = {}
    for n, entry in enumerate(entries, 1):
        kid, colon, secret = entry.partition(":")
        try:
            keys[kid] = bytes.fromhex(secret)
        except ValueError:
            secret = ""
        if not (colon and kid and secret):
            raise InvalidConfiguration(
                f"CASELIB_REPLY_KEYS entry {n} is not 'kid:hexsecret' (a key id, a colon, "
                "the secret in hex); set it as 'k1:<hex>,k0:<hex>', the first key signing")
    return ReplyKeys(keys, entries[0].partition(":")[0])


def mail_command(args: argparse.Namespace) -> int:
    """Run `caselib mail ingest`: 0 handled, 2 refused, 75 the store failed (retry)."""
    import json
    import os

    from caselib.desk.mail import MailSettings
    from caselib.errors import StorageError
    from caselib.storage.sqlite import SqliteStore

    raw = sys.stdin.buffer.read()
    try:
        keys = reply_keys(os.environ.get("CASELIB_REPLY_KEYS", ""))
        path = Path(args.db)
        # an empty file is no store yet (one made beforehand for the mail user to own)
        fresh = not path.exists() or (path.is_file() and path.stat().st_size == 0)
        problem = None if args.create and fresh else check_store_file(path)
        if problem is not None:
            raise InvalidConfiguration(
                problem + ("" if path.exists() else "; pass --create to make a new store"))
        store = SqliteStore(path)
    except (CaselibError, ValueError, OSError) as err:
        print(f"caselib mail ingest: {type(err).__name__}: {err} (exit 75: the mail server "
              "keeps the message and retries once this is fixed)", file=sys.stderr)
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
