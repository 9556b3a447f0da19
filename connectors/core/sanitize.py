"""Clean what citizens send before it reaches the bot.

Rasa reads a message that starts with "/" as an intent with entities (`/rate{"satisfaction": ...}`);
citizens must not be able to forge intents or entities that way, so such prefixes are neutralised.
Button payloads are accepted only when they are one of the buttons the bot actually offered.
"""

from __future__ import annotations

import re
import unicodedata

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
SLASHES = re.compile(r"^[\s/／⁄∕\\]+")


def clean_text(raw: str, *, max_chars: int) -> str:
    """Return the text without control characters, forged-intent slashes, and cut to `max_chars`."""
    text = unicodedata.normalize("NFC", raw)
    text = CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = SLASHES.sub("", text).strip()
    return text[:max_chars]


def offered_payload(chosen: str, buttons: list[dict[str, str]]) -> str | None:
    """Return the payload if it belongs to one of the offered buttons, else None."""
    for button in buttons:
        if chosen in (button.get("payload"), button.get("title")):
            return button.get("payload")
    return None
