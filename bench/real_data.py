"""Real citizen messages, for measurement only: read the dev set, join its words, put Beijing places in.

The folder `../shared/data/real/` (beside the project's checkout; `JIESU_REAL_DATA` overrides it) holds
messages real citizens wrote to a provincial message board. They are never copied into the project: the
benches read them from there and skip with a message when the folder is absent.

The text was segmented with jieba and its stop words removed; its places were masked (A市, A3区, K9县).
`restore` joins the words back without spaces and replaces each masked place by a Beijing place from the
reference data, always the same one for the same mask: a lettered city (K市) and the masked province by
北京市, a numbered district (A3区) by a district, a numbered county or city (K9县, C4市) by a district and
one of its streets or townships, so that messages carry places the router and the assistant can find.

The dev set is split in two halves by the parity of its row number: the tuning half (even rows) may be
read failure by failure; the held-out half (odd rows) is only counted, never read message by message.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

from backend.reference.gazetteer import gazetteer

ROOT = Path(__file__).resolve().parent.parent
ENV_VAR = "JIESU_REAL_DATA"
DEV_FILE = "tipdm2020c_dev.csv"
TRAVEL_FILE = "crosswoz_test_user_turns.csv"
LABELS_FILE = "tipdm_label_departments.yml"
CHAT_CHARS = 60  # a chat message: the first 60 characters of a letter

Half = Literal["tuning", "held_out"]
HALVES: tuple[Half, ...] = ("tuning", "held_out")

_MASKED = re.compile(r"(?<![A-Za-z0-9])([A-Z])(\d{0,2}) ?(市|区|县|州)")
_PROVINCE = "西地省"
_CITY = "北京市"
_LINE_BREAK = "_x000D_"  # Excel's escaped carriage return
_ASCII_WORD = re.compile(r"[A-Za-z0-9.%]+")


class RealDataMissing(RuntimeError):
    """The real-data folder is not there (a fresh clone without ../shared)."""


def real_data_dir() -> Path:
    """Where the real data should be: $JIESU_REAL_DATA, else ../shared/data/real beside the checkout.

    A git worktree elsewhere falls back to the folder beside its main checkout.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    candidates = [ROOT.parent / "shared" / "data" / "real"]
    main = _main_checkout()
    if main is not None:
        candidates.append(main.parent / "shared" / "data" / "real")
    return next((c for c in candidates if c.is_dir()), candidates[0])


def _main_checkout() -> Path | None:
    """The main checkout of a git worktree (its .git is a file pointing into main's .git/worktrees)."""
    dot_git = ROOT / ".git"
    if not dot_git.is_file():
        return None
    pointer = dot_git.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
    git_dir = Path(pointer)
    return git_dir.parent.parent.parent if git_dir.parent.name == "worktrees" else None


def require_real_data(folder: Path | None = None) -> Path:
    """The folder with the dev set, or RealDataMissing with a message saying what to do."""
    folder = folder or real_data_dir()
    if not (folder / DEV_FILE).is_file():
        raise RealDataMissing(
            f"real data not found at {folder} (no {DEV_FILE}): put the shared data folder beside the "
            f"checkout or set {ENV_VAR}; skipping the real-data measurement"
        )
    return folder


@dataclass(frozen=True)
class RealMessage:
    row: int  # the dev set's row number
    label: str  # the board's first-level class (一级分类)
    text: str  # joined, with Beijing places

    @property
    def half(self) -> Half:
        return half_of(self.row)

    @property
    def chat(self) -> str:
        """The message as a chat message would carry it: its first 60 characters."""
        return self.text[:CHAT_CHARS]


def half_of(row: int) -> Half:
    return "tuning" if row % 2 == 0 else "held_out"


def load_messages(half: Half | None = None, folder: Path | None = None) -> list[RealMessage]:
    """The dev set's messages in file order, restored; only one half when `half` is given."""
    path = require_real_data(folder) / DEV_FILE
    with path.open(encoding="utf-8", newline="") as file:
        messages = [
            RealMessage(int(r["row"]), r["label"], restore(r["text_segmented"])) for r in csv.DictReader(file)
        ]
    return [m for m in messages if half is None or m.half == half]


def load_travel_turns(folder: Path | None = None) -> dict[int, str]:
    """What people said to a travel assistant about Beijing, by row number (1 for the first data row)."""
    path = require_real_data(folder) / TRAVEL_FILE
    with path.open(encoding="utf-8", newline="") as file:
        return {number: r["text"] for number, r in enumerate(csv.DictReader(file), start=1)}


@dataclass(frozen=True)
class LabelDepartments:
    """Which department codes can rightly own a message of each class, and the most typical ones."""

    acceptable: dict[str, frozenset[str]]
    strict: dict[str, frozenset[str]]

    def is_right(self, label: str, department: str | None, *, strict: bool = False) -> bool:
        allowed = (self.strict if strict else self.acceptable)[label]
        return department in allowed


def label_departments(folder: Path | None = None) -> LabelDepartments:
    raw = yaml.safe_load((require_real_data(folder) / LABELS_FILE).read_text(encoding="utf-8"))
    strict = raw.pop("strict")
    return LabelDepartments(
        acceptable={label: frozenset(codes) for label, codes in raw.items()},
        strict={label: frozenset(codes) for label, codes in strict.items()},
    )


def restore(segmented: str) -> str:
    """Join the words of a segmented message and replace its masked places by Beijing places."""
    text = segmented.replace(_LINE_BREAK, " \n ")
    text = _MASKED.sub(lambda m: f" {beijing_place(m.group(1), m.group(2), m.group(3))} ", text)
    text = text.replace(_PROVINCE, f" {_CITY} ")
    tokens = [_CITY if token == "市" else token for token in text.split(" ") if token]
    return _join(tokens)


def beijing_place(letter: str, number: str, suffix: str) -> str:
    """The Beijing place standing for one masked place (the same for the same mask)."""
    if not number:
        return _CITY
    districts, streets = beijing_places()
    pick = int(hashlib.sha256(f"{letter}{number}{suffix}".encode()).hexdigest(), 16)
    if suffix == "区":
        return districts[pick % len(districts)]
    return streets[pick % len(streets)]


@cache
def beijing_places() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Beijing's district names, and its streets and townships each with its district's name."""
    places = gazetteer()
    districts = tuple(d.name for d in sorted(places.districts.values(), key=lambda d: d.code))
    streets = tuple(
        f"{s.district.name}{s.name}" for s in sorted(places.streets.values(), key=lambda s: s.code)
    )
    return districts, streets


def _join(tokens: list[str]) -> str:
    """Words back together: no space, except between two Latin words or numbers; one city name in a row."""
    out: list[str] = []
    for token in tokens:
        if token == "\n":
            if out and out[-1] != "\n":
                out.append("\n")
            continue
        if out and token == _CITY and out[-1].endswith(_CITY):
            continue
        if out and _ASCII_WORD.fullmatch(token) and _ASCII_WORD.fullmatch(out[-1]):
            out.append(" ")
        out.append(token)
    return "".join(out).strip()
