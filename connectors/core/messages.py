"""What passes through the conversation core: a citizen's inbound message and the replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Inbound:
    """One message from a citizen on some channel, already authenticated by its adapter."""

    channel: str
    identity: str
    text: str = ""
    button: str | None = None
    attachments: tuple[dict[str, str], ...] = ()
    location: tuple[float, float] | None = None
    choice: int | None = None  # a digit answering a numbered list of buttons (channels without buttons)
    intent: str | None = None  # a channel's command given to the bot as this intent (never citizens' text)


@dataclass
class Reply:
    """One message to a citizen: text, buttons to choose from, or an image."""

    text: str = ""
    buttons: list[dict[str, str]] = field(default_factory=list)
    image: str | None = None
    author: str = "bot"
    id: int | None = None
    created_at: datetime | None = None  # when it was stored in the transcript

    @classmethod
    def from_rasa(cls, message: dict[str, Any]) -> Reply:
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in message.get("buttons") or []
        ]
        return cls(text=str(message.get("text") or ""), buttons=buttons, image=message.get("image"))

    def public(self) -> dict[str, Any]:
        """The reply as channels and the JSON API show it."""
        body: dict[str, Any] = {"text": self.text, "buttons": self.buttons}
        if self.image:
            body["image"] = self.image
        if self.id is not None:
            body["id"] = self.id
        if self.created_at is not None:
            body["created_at"] = self.created_at.isoformat()
        body["author"] = self.author
        return body
