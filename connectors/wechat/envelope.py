"""WeChat's XML: what a callback carries, and the passive reply (被动回复) sent back in its response.

Callbacks are small flat XML documents. A body with a DOCTYPE is refused outright (no entity of any
kind is needed), so no expansion can happen whatever the parser does.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_BODY_BYTES = 64_000


class NotACallback(ValueError):
    """A body that is not a WeChat callback message."""


@dataclass(frozen=True)
class Callback:
    """One message or event from a citizen (the fields our channel uses)."""

    to_user: str  # the account's original id (gh_...)
    from_user: str  # the citizen's openid
    created: int
    kind: str  # MsgType: text, image, location, voice, event, ...
    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def dedupe_key(self) -> str:
        """What identifies a callback WeChat sends again (it retries three times without an answer)."""
        if self.get("MsgId"):
            return f"msg:{self.get('MsgId')}"
        return f"event:{self.from_user}:{self.created}:{self.get('Event')}:{self.get('EventKey')}"


def parse(body: bytes) -> dict[str, str]:
    """The child elements of a flat <xml> document, by name."""
    if len(body) > MAX_BODY_BYTES:
        raise NotACallback("too large")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise NotACallback("DOCTYPE is not allowed")
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DOCTYPE, so no entities
    except ET.ParseError as error:
        raise NotACallback(f"not XML: {error}") from None
    if root.tag != "xml":
        raise NotACallback("not a WeChat document")
    return {child.tag: (child.text or "").strip() for child in root}


def callback(fields: dict[str, str]) -> Callback:
    try:
        return Callback(
            to_user=fields["ToUserName"],
            from_user=fields["FromUserName"],
            created=int(fields.get("CreateTime") or 0),
            kind=fields["MsgType"],
            fields=fields,
        )
    except (KeyError, ValueError):
        raise NotACallback("missing ToUserName, FromUserName or MsgType") from None


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, text: str) -> str:
    """A passive text reply to the citizen `to_user` from the account `from_user`."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    )


def encrypted_reply(encrypted: str, signature: str, timestamp: str, nonce: str) -> str:
    return (
        f"<xml><Encrypt>{cdata(encrypted)}</Encrypt><MsgSignature>{cdata(signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    )
