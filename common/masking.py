"""Mask citizens' personal data (phones, names, addresses, ID numbers) in text bound for logs.

Logs never carry a citizen's personal data in clear: every log record passes through
`PersonalDataFilter`, which masks mobile numbers (138****8000), ID-card numbers, and the values of
fields that are personal by name (contact_name, address, text, ...) when they are logged as extras.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
PERSONAL_KEYS = frozenset(
    {"contact_name", "contact_phone", "phone", "address", "text", "description", "citizen_text"}
)


def mask_phone(phone: str) -> str:
    """Show the first three and last four digits of a mobile number: 138****8000."""
    digits = re.sub(r"\D", "", phone)[-11:]
    if len(digits) != 11:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    """Keep the family name only: 张三 -> 张*, 欧阳娜娜 -> 欧***."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def mask_text(text: str) -> str:
    """Mask every mobile and ID-card number inside free text."""
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)


def redact(value: Any) -> str:
    """Replace a personal field's value by its length only."""
    return f"<{len(str(value))} chars>"


class PersonalDataFilter(logging.Filter):
    """Mask personal data in every record's message, arguments and personal extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = mask_text(str(record.msg))
        for key in PERSONAL_KEYS & record.__dict__.keys():
            setattr(record, key, redact(getattr(record, key)))
        return True


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr with personal data masked on every handler, ours and the libraries'."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    for handler in root.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Libraries that log what passes through them (SQL parameters, WebSocket frames, Telegram updates,
    # trackers) at DEBUG: a name or an address there cannot be recognised and masked, so they never
    # log below INFO, whatever LOG_LEVEL says. Our own code logs masked values at DEBUG.
    for name in ("aiosqlite", "websockets", "telegram", "rasa_sdk", "hpack", "multipart"):
        library = logging.getLogger(name)
        library.setLevel(max(logging.INFO, root.level, library.level))
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)  # at INFO it logs SQL with its parameters
