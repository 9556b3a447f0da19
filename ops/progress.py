"""Read `rasa train`'s output as it comes and say, in a few lines, how far training is.

Rasa logs "Starting to train component 'X'." and "Finished training component 'X'." (or "Restored
component 'X' from cache.") around each component, and the components that train for epochs (DIET,
TED) draw a tqdm bar: "Epochs:  27%|██▋       | 3/11 [01:28<03:32, 29.4s/it, t_loss=…]". From those
lines this prints one line per finished component and, for the epoch bars, the epochs done, the time
so far and tqdm's estimate of the rest; at most about ten lines a bar. Between them Rasa can be silent
for minutes (checking and reading the training data, a long component): `heartbeat` then says what it
is still doing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STARTED = re.compile(r"Starting to train component '(?P<name>[\w.]+)'")
FINISHED = re.compile(r"Finished training component '(?P<name>[\w.]+)'")
RESTORED = re.compile(r"Restored component '(?P<name>[\w.]+)' from cache")
EPOCHS = re.compile(
    r"Epochs:\s*\d+%\|[^|]*\|\s*(?P<done>\d+)/(?P<total>\d+) \[(?P<spent>[\d:]+)<(?P<left>[\d:?]+)"
)
SAVED = re.compile(r"Your Rasa model is trained and saved")
VALIDATING = re.compile(r"Started validating domain and training data")
VALIDATED = re.compile(r"No story structure conflicts found|Story structure conflicts? found")
HEARTBEAT_S = 60.0  # with nothing to say for this long, say what Rasa is still doing
LINES_PER_BAR = 10


def clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tqdm_seconds(text: str) -> float | None:
    """tqdm's [mm:ss] or [h:mm:ss] as seconds; None for its unknown '?'."""
    if "?" in text:
        return None
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


@dataclass
class TrainingProgress:
    """Turn the lines of `rasa train` into progress lines; `now` is seconds since training began."""

    component: str | None = None
    component_since: float = 0.0
    epochs_shown: int = 0
    doing: str = "starting Rasa"
    said_at: float = 0.0

    def feed(self, line: str, now: float) -> str | None:
        """Read one line of output; return a line to show, or None."""
        said = self._read(line, now)
        if said is not None:
            self.said_at = now
        return said

    def heartbeat(self, now: float) -> str | None:
        """A line saying what Rasa is still doing, when nothing was said for HEARTBEAT_S."""
        if now - self.said_at < HEARTBEAT_S:
            return None
        self.said_at = now
        return f"[{clock(now)}] still {self.doing} ..."

    def _read(self, line: str, now: float) -> str | None:
        if VALIDATING.search(line):
            self.doing = "checking the domain and training data"
            return f"[{clock(now)}] checking the domain and training data"
        if VALIDATED.search(line):
            self.doing = "reading the training data"
            return f"[{clock(now)}] training data checked; reading it"
        if match := STARTED.search(line):
            self.component, self.component_since, self.epochs_shown = match["name"], now, 0
            self.doing = f"training {short(match['name'])}"
            return None
        if match := FINISHED.search(line):
            took = now - self.component_since if self.component == match["name"] else None
            self.component, self.doing = None, "between components"
            spent = f" in {clock(took)}" if took is not None else ""
            return f"[{clock(now)}] {short(match['name'])} trained{spent}"
        if match := RESTORED.search(line):
            return f"[{clock(now)}] {short(match['name'])} taken from Rasa's cache"
        if match := EPOCHS.search(line):
            return self._epochs(int(match["done"]), int(match["total"]), match["spent"], match["left"], now)
        if SAVED.search(line):
            return f"[{clock(now)}] model saved"
        return None

    def _epochs(self, done: int, total: int, spent: str, left: str, now: float) -> str | None:
        """One line when a new epoch is done, thinned to about LINES_PER_BAR lines a bar."""
        every = max(1, total // LINES_PER_BAR)
        if done <= self.epochs_shown or (done % every and done != total):
            return None
        self.epochs_shown = done
        name = short(self.component or "training")
        rest = tqdm_seconds(left)
        estimate = f", about {clock(rest)} to go" if rest is not None and done < total else ""
        so_far = clock(tqdm_seconds(spent) or 0.0)
        return f"[{clock(now)}] {name}: epoch {done}/{total}, {so_far} so far{estimate}"


def short(component: str) -> str:
    """A component's class name without its module (bot.nlu.components.BlendedIntent -> BlendedIntent)."""
    return component.rsplit(".", 1)[-1]


def split_output(pending: str, chunk: str) -> tuple[list[str], str]:
    """Split output into lines at \\n or tqdm's \\r; return the complete lines and the unfinished rest."""
    parts = re.split(r"[\r\n]", pending + chunk)
    return [p for p in parts[:-1] if p.strip()], parts[-1]
