"""`python -m backend staff …`: staff accounts and Open311 keys from the command line.

The same service functions as the admin API, audited with the actor "cli". Passwords never come from
the command line (where `ps` and shell history would keep them): one is generated and printed once,
or read from standard input (`--password-stdin`) or from a prompt (`--prompt`). Bad input ends with
one line on stderr and exit code 2, and nothing is changed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import TextIO

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.db import session_scope
from backend.errors import BadInput, DomainError
from backend.open311 import service as open311
from backend.reference.units import Unit
from backend.staff import service
from backend.staff.principal import CLI
from backend.staff.roles import Role
from backend.staff.schemas import StaffCreate, StaffPatch

BAD_INPUT = 2
FAILED = 1
ROLES = [r.value for r in sorted(service.STAFF_ROLES)]


class Console:
    """Where a command reads a password and writes its answer (the terminal, or a test's buffers)."""

    def __init__(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
        self.stdin = stdin
        self.stdout = stdout

    def say(self, line: str) -> None:
        print(line, file=self.stdout)

    def password(self, args: argparse.Namespace) -> tuple[str, bool]:
        """The password the admin chose, or a generated one; and whether it was generated."""
        if args.password_stdin:
            return self.stdin.readline().rstrip("\r\n"), False
        if args.prompt:
            first = getpass.getpass("new password: ")
            if first != getpass.getpass("again: "):
                raise BadInput("the two passwords differ")
            return first, False
        return service.generate_password(), True


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m backend staff", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every account: username, name, role, unit, active")
    create = commands.add_parser("create", help="a new account (password generated unless given)")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--unit", help="handling-unit staff's unit: heating, street_office:110105026…")
    create.add_argument("--name", help="display name (default: the username)")
    _password_options(create)
    commands.add_parser("deactivate", help="shut an account out (its sessions end)").add_argument("username")
    commands.add_parser("activate", help="let a deactivated account in again").add_argument("username")
    reset = commands.add_parser("reset-password", help="a new password; the account's sessions end")
    reset.add_argument("username")
    _password_options(reset)
    keys = commands.add_parser("open311-key", help="API keys of Open311 clients").add_subparsers(
        dest="key_command", required=True
    )
    keys.add_parser("issue", help="a new key, printed once").add_argument("name")
    keys.add_parser("list", help="the keys, by id, name and fingerprint (never the key)")
    keys.add_parser("revoke", help="stop a key working").add_argument("key", metavar="ID_OR_NAME")
    return top


def _password_options(command: argparse.ArgumentParser) -> None:
    how = command.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    how.add_argument("--prompt", action="store_true", help="ask for the password (not echoed)")


def run(argv: Sequence[str], *, sessions: sessionmaker[Session], console: Console | None = None) -> int:
    """Run one staff command in one transaction; return the exit code."""
    args = parser().parse_args(argv)
    console = console or Console()
    command = COMMANDS[f"open311-key {args.key_command}" if args.command == "open311-key" else args.command]
    try:
        with contextmanager(session_scope)(sessions) as session:
            command(session, args, console)
    except ValidationError as error:
        return _fail(_first_error(error), BAD_INPUT)
    except DomainError as error:
        return _fail(error.message, BAD_INPUT)
    except SQLAlchemyError as error:
        return _fail(f"database: {type(error).__name__}: {str(error).splitlines()[0]}", FAILED)
    return 0


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def list_staff(session: Session, _: argparse.Namespace, console: Console) -> None:
    rows = [("id", "username", "name", "role", "unit", "active")]
    for s in service.list_staff(session=session):
        unit = f"{s.unit_code} ({Unit.parse(s.unit_code).name})" if s.unit_code else "-"
        rows.append((str(s.id), s.username, s.display_name, s.role, unit, "yes" if s.active else "no"))
    _table(console, rows)


def create(session: Session, args: argparse.Namespace, console: Console) -> None:
    password, generated = console.password(args)
    staff_in = StaffCreate(
        username=args.username,
        display_name=args.name or args.username,
        password=password,
        role=Role(args.role),
        unit_code=args.unit,
    )
    staff = service.add_staff(session=session, staff_in=staff_in, principal=CLI)
    console.say(f"created {staff.username} ({staff.role}{', ' + staff.unit_code if staff.unit_code else ''})")
    if generated:
        console.say(f"password (shown once): {password}")


def set_active(active: bool) -> Callable[[Session, argparse.Namespace, Console], None]:
    def command(session: Session, args: argparse.Namespace, console: Console) -> None:
        staff = service.find_staff(session=session, username=args.username)
        service.update_staff(session=session, staff=staff, patch=StaffPatch(active=active), principal=CLI)
        console.say(f"{staff.username} is {'active' if active else 'deactivated; its sessions ended'}")

    return command


def reset_password(session: Session, args: argparse.Namespace, console: Console) -> None:
    staff = service.find_staff(session=session, username=args.username)
    password, generated = console.password(args)
    patch = StaffPatch(password=password)
    service.update_staff(session=session, staff=staff, patch=patch, principal=CLI)
    console.say(f"new password set for {staff.username}; its sessions ended")
    if generated:
        console.say(f"password (shown once): {password}")


def issue_key(session: Session, args: argparse.Namespace, console: Console) -> None:
    record, key = open311.issue_key(session=session, name=args.name, principal=CLI)
    console.say(f"key {record.id} for {record.name} (fingerprint {open311.fingerprint(record)})")
    console.say(f"api_key (shown once): {key}")


def list_keys(session: Session, _: argparse.Namespace, console: Console) -> None:
    rows = [("id", "name", "fingerprint", "active", "created (UTC)")]
    for k in open311.list_keys(session=session):
        created = k.created_at.strftime("%Y-%m-%d %H:%M")
        rows.append((str(k.id), k.name, open311.fingerprint(k), "yes" if k.active else "no", created))
    _table(console, rows)


def revoke_key(session: Session, args: argparse.Namespace, console: Console) -> None:
    if args.key.isdecimal():
        key_id = int(args.key)
    else:
        named = open311.find_keys(session=session, name=args.key)
        if len(named) != 1:
            raise BadInput(f"{len(named)} active keys are named {args.key!r}: revoke one by its id")
        key_id = named[0].id
    record = open311.revoke_key(session=session, key_id=key_id, principal=CLI)
    console.say(f"key {record.id} of {record.name} is revoked")


def _table(console: Console, rows: Sequence[Sequence[str]]) -> None:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True))
        console.say("  ".join(cells).rstrip())


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)


COMMANDS: dict[str, Callable[[Session, argparse.Namespace, Console], None]] = {
    "list": list_staff,
    "create": create,
    "deactivate": set_active(False),
    "activate": set_active(True),
    "reset-password": reset_password,
    "open311-key issue": issue_key,
    "open311-key list": list_keys,
    "open311-key revoke": revoke_key,
}
