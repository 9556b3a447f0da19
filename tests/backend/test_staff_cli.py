"""`python -m backend staff …` on a temporary SQLite database: accounts, passwords and Open311 keys from
the command line, audited as "cli"; bad input says one line, exits 2 and changes nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import migrate
from backend.errors import Forbidden, Unauthorized
from backend.open311.models import Open311Key
from backend.open311.service import check_key
from backend.staff import cli
from backend.staff.models import AuditEntry, Staff, StaffSession
from backend.staff.service import login
from common.database import make_engine

ROOT = Path(__file__).resolve().parents[2]
CHOSEN = "a password I chose"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'backend.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


class Run:
    """Runs staff commands in-process on the test database, keeping what each printed."""

    def __init__(self, engine: Engine) -> None:
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False)

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str]:
        out = io.StringIO()
        code = cli.run(list(argv), sessions=self.sessions, console=cli.Console(io.StringIO(stdin), out))
        return code, out.getvalue()

    def session(self) -> Session:
        return self.sessions()


def shown_once(output: str, label: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith(label))


def snapshot(run: Run) -> tuple[object, ...]:
    """Everything the commands could change."""
    with run.session() as s:
        return (
            s.execute(
                select(Staff.username, Staff.active, Staff.password_hash, Staff.role, Staff.unit_code)
            ).all(),
            s.execute(select(Open311Key.name, Open311Key.active)).all(),
            s.scalar(select(func.count(AuditEntry.id))),
            s.execute(select(StaffSession.id, StaffSession.revoked)).all(),
        )


def can_log_in(run: Run, username: str, password: str) -> bool:
    with run.session() as s:
        try:
            login(session=s, username=username, password=password, address="cli-test", ttl=timedelta(hours=1))
        except Unauthorized:
            s.commit()
            return False
        s.commit()
        return True


def test_accounts_from_the_command_line(database: Engine) -> None:
    run = Run(database)
    code, out = run("create", "wangli", "--role", "operator", "--name", "王丽")
    assert code == 0 and out.startswith("created wangli (operator)")
    generated = shown_once(out, "password (shown once)")
    assert len(generated) == 14 and can_log_in(run, "wangli", generated)
    code, _ = run(
        "create",
        "heat1",
        "--role",
        "unit_staff",
        "--unit",
        "heating",
        "--password-stdin",
        stdin=CHOSEN + "\n",
    )
    assert code == 0 and can_log_in(run, "heat1", CHOSEN)

    code, out = run("list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["id", "username", "name", "role", "unit", "active"]
    assert lines[1].split() == ["1", "wangli", "王丽", "operator", "-", "yes"]
    assert lines[2].split() == [
        "2",
        "heat1",
        "heat1",
        "unit_staff",
        "heating",
        "(北京市热力集团及供热单位)",
        "yes",
    ]

    assert run("deactivate", "wangli") == (0, "wangli is deactivated; its sessions ended\n")
    assert not can_log_in(run, "wangli", generated)
    with run.session() as s:
        assert all(
            r.revoked for r in s.scalars(select(StaffSession).join(Staff).where(Staff.username == "wangli"))
        )
    assert run("activate", "wangli")[0] == 0 and can_log_in(run, "wangli", generated)

    code, out = run("reset-password", "heat1")
    fresh = shown_once(out, "password (shown once)")
    assert code == 0 and fresh != CHOSEN
    assert not can_log_in(run, "heat1", CHOSEN) and can_log_in(run, "heat1", fresh)
    assert run("reset-password", "heat1", "--password-stdin", stdin="another chosen one\n") == (
        0,
        "new password set for heat1; its sessions ended\n",
    )
    assert can_log_in(run, "heat1", "another chosen one")

    with run.session() as s:
        audited = s.execute(
            select(AuditEntry.actor, AuditEntry.role, AuditEntry.action, AuditEntry.target, AuditEntry.detail)
            .where(AuditEntry.actor == "cli")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(a) for a in audited] == [
        ("cli", "system", "staff.create", "wangli", {"role": "operator", "unit": None}),
        ("cli", "system", "staff.create", "heat1", {"role": "unit_staff", "unit": "heating"}),
        ("cli", "system", "staff.update", "wangli", {"active": False}),
        ("cli", "system", "staff.update", "wangli", {"active": True}),
        ("cli", "system", "staff.update", "heat1", {"password": "changed"}),
        ("cli", "system", "staff.update", "heat1", {"password": "changed"}),
    ]
    assert not any(p in str(audited) for p in (generated, fresh, CHOSEN, "another chosen one"))


def test_open311_keys_from_the_command_line(database: Engine) -> None:
    run = Run(database)
    code, out = run("open311-key", "issue", "市城管委APP")
    key = shown_once(out, "api_key (shown once)")
    assert code == 0 and out.startswith("key 1 for 市城管委APP (fingerprint ")
    run("open311-key", "issue", "区政务服务中心")
    with run.session() as s:
        assert check_key(session=s, key=key).name == "市城管委APP"

    code, out = run("open311-key", "list")
    assert code == 0 and key not in out
    assert [line.split()[:2] + line.split()[3:4] for line in out.splitlines()[1:]] == [
        ["1", "市城管委APP", "yes"],
        ["2", "区政务服务中心", "yes"],
    ]
    assert run("open311-key", "revoke", "市城管委APP") == (0, "key 1 of 市城管委APP is revoked\n")
    assert run("open311-key", "revoke", "2")[0] == 0
    with run.session() as s, pytest.raises(Forbidden):
        check_key(session=s, key=key)
    with run.session() as s:
        actions = s.execute(select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [tuple(a) for a in actions] == [
        ("cli", "open311.key"),
        ("cli", "open311.key"),
        ("cli", "open311.key_revoke"),
        ("cli", "open311.key_revoke"),
    ]


@pytest.mark.parametrize(
    ("argv", "stdin", "says"),
    [
        (["create", "bob", "--role", "operator", "--unit", "heating"], "", "only handling-unit staff belong"),
        (["create", "bob", "--role", "unit_staff", "--unit", "street_office:000"], "", "street_office:000"),
        (["create", "b b", "--role", "operator"], "", "username:"),
        (["create", "bob", "--role", "operator", "--password-stdin"], "short\n", "password:"),
        (["create", "admin1", "--role", "operator"], "", "username taken: admin1"),
        (["deactivate", "nobody"], "", "no staff member nobody"),
        (["deactivate", "admin1"], "", "the last active admin cannot be deactivated"),
        (["reset-password", "nobody"], "", "no staff member nobody"),
        (["open311-key", "issue", "  "], "", "name: 1 to 100 characters"),
        (["open311-key", "revoke", "7"], "", "no Open311 key 7"),
        (["open311-key", "revoke", "twice"], "", "2 active keys are named 'twice'"),
    ],
)
def test_bad_input_says_one_line_exits_2_and_changes_nothing(
    database: Engine, capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str, says: str
) -> None:
    run = Run(database)
    assert run("create", "admin1", "--role", "admin")[0] == 0
    run("open311-key", "issue", "twice")
    run("open311-key", "issue", "twice")
    capsys.readouterr()
    before = snapshot(run)
    assert run(*argv, stdin=stdin) == (2, "")
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and says in error, error
    assert snapshot(run) == before


def test_passwords_are_never_taken_from_the_command_line(database: Engine) -> None:
    run = Run(database)
    with pytest.raises(SystemExit) as usage:
        run("create", "bob", "--role", "operator", "--password", "on the command line")
    assert usage.value.code == 2
    assert snapshot(run)[0] == []


def test_python_m_backend_staff(tmp_path: Path) -> None:
    """The command as an operator types it, with the backend's settings from the environment."""
    env = {
        **os.environ,
        "BACKEND_SERVICE_TOKEN": "service-token-for-tests",
        "BACKEND_DATABASE_URL": f"sqlite:///{tmp_path / 'backend.db'}",
        "JIESU_DATA_DIR": str(tmp_path),
    }

    def staff(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "backend", "staff", *argv]
        return subprocess.run(
            command, input=stdin, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )

    created = staff("create", "wangli", "--role", "operator", "--password-stdin", stdin=CHOSEN + "\n")
    assert created.returncode == 0 and created.stdout == "created wangli (operator)\n"
    assert created.stderr == ""  # no migration chatter
    listed = staff("list")
    assert listed.returncode == 0 and "wangli" in listed.stdout
    bad = staff("create", "wangli", "--role", "operator", "--password-stdin", stdin=CHOSEN + "\n")
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", "error: username taken: wangli\n")
