"""Who the citizen is on their channel, what they sent with the message, and words they use."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

from common.masking import mask_phone

BEIJING = ZoneInfo("Asia/Shanghai")
KNOWN_CHANNELS = ("webchat", "telegram", "wechat", "phone")
REFUSALS = re.compile(r"不留|不方便|不想(说|留|透露)|匿名|保密|不告诉|不愿(意)?(透露|留)|算了吧?不留")
NOT_GIVEN = "不愿透露"
NOT_YET = "—"  # shown for a field of a case that has no value yet


def channel_identity(tracker: Tracker) -> str:
    """The identity cases are filed under: the conversation's sender id (e.g. telegram-1234)."""
    return tracker.sender_id


def channel(tracker: Tracker) -> str:
    prefix = tracker.sender_id.split("-", 1)[0]
    return prefix if prefix in KNOWN_CHANNELS else "other"


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "").strip()


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value is not None else None


def attachments(tracker: Tracker) -> list[dict[str, Any]]:
    """Photos the citizen sent for the report (the gateway keeps them in the `attachments` slot)."""
    kept = tracker.get_slot("attachments") or []
    photos = [a for a in kept if isinstance(a, dict) and a.get("ref")]
    return [{"kind": "photo", "ref": str(a["ref"])[:300]} for a in photos][:10]


def location(tracker: Tracker) -> tuple[float, float] | None:
    """The location pin the citizen shared for the report (the gateway sets the `location` slot)."""
    pin = tracker.get_slot("location")
    if isinstance(pin, dict) and "latitude" in pin and "longitude" in pin:
        return float(pin["latitude"]), float(pin["longitude"])
    return None


def shown_phone(phone: str | None) -> str:
    """A phone as we read it back to the citizen: masked, in case someone looks over a shoulder."""
    if not phone or phone == NOT_GIVEN:
        return "不留电话（匿名）"
    return mask_phone(phone)


def refuses(text: str) -> bool:
    return REFUSALS.search(text) is not None


def beijing_time(iso: str) -> str:
    """An API timestamp as the citizen reads it: 12月5日 03:01 (Beijing time)."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(BEIJING)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"
