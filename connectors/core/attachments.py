"""Photos and location pins: kept in the bot's tracker for the case being reported, not answered as
messages (the report form reads its `attachments` and `location` slots)."""

from __future__ import annotations

from typing import Any

from connectors.core.rasa_pool import RasaPool

MAX_PHOTOS = 10  # kept per report, the newest


def attachment(
    *, photo: str | None, location: tuple[float, float] | None, label: str | None
) -> tuple[str, dict[str, Any]] | None:
    """What the transcript shows for a photo or a pin, and the stored message's payload (None: neither)."""
    payload: dict[str, Any] = {"remember": True}
    if photo:
        payload["attachments"] = [{"kind": "photo", "ref": photo}]
        return "[图片]", payload
    if location:
        payload["location"] = {"latitude": location[0], "longitude": location[1], "label": label}
        return f"[位置] {label or ''} {location[0]:.5f},{location[1]:.5f}".replace("  ", " "), payload
    return None


async def remember(rasa: RasaPool, sender_id: str, payload: dict[str, Any]) -> None:
    """Add the photo to the tracker's `attachments` slot, or set its `location` slot."""
    if "location" in payload:
        events = [{"event": "slot", "name": "location", "value": payload["location"]}]
    else:
        tracker = await rasa.tracker(sender_id)
        kept = list((tracker.get("slots") or {}).get("attachments") or [])
        events = [
            {"event": "slot", "name": "attachments", "value": (kept + payload["attachments"])[-MAX_PHOTOS:]}
        ]
    await rasa.append_events(sender_id, events)
