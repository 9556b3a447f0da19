"""A citizen's photo and location pin from the web chat, kept for the case being reported.

A photo is the raw image in the body (the page posts the file as it is), its sender in the
X-Chat-Sender header so the credential stays out of URLs and access logs. It is kept in the
gateway's uploads folder under a random name, where retention deletes it with the transcript
(connectors.retention), and goes into the bot's tracker as `upload:<name>` like a Telegram or
WeChat photo. Nothing about either reaches the logs.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, Field

from connectors.core.ids import identity_of_credential
from connectors.webchat.channel import CHANNEL
from connectors.webchat.errors import PHOTO_TOO_LARGE
from connectors.webchat.routes import UNKNOWN_SENDER, check_rate, parts
from connectors.wiring import wired

router = APIRouter(prefix="/chat/api", tags=["web chat"])

NOT_A_PHOTO = "只能发送照片，请换一张图片再试。"
EMPTY_PHOTO = "没有收到图片，请重新选择后再发送。"
BAD_PLACE = "收到的位置不正确，请直接输入地址。"


class PlaceIn(BaseModel):
    sender: Annotated[str, Field(min_length=8, max_length=64)]
    latitude: float
    longitude: float


def image_kind(head: bytes) -> str | None:
    """The file extension of a JPEG, PNG, WebP or GIF told by its first bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


async def _known(request: Request, sender: str) -> str:
    """The conversation's identity for a sender the gateway issued (404 otherwise), rate-limited."""
    _, webchat, limiter, _ = parts(request)
    identity = identity_of_credential(sender)
    if not await webchat.known(identity):
        raise HTTPException(404, UNKNOWN_SENDER)
    check_rate(identity, limiter)
    return identity


@router.post("/photo")
async def photo(
    request: Request, x_chat_sender: Annotated[str, Header(min_length=8, max_length=64)]
) -> list[dict[str, Any]]:
    """Keep a photo for the case being reported and answer with the bot's replies."""
    identity = await _known(request, x_chat_sender)
    content = await request.body()
    max_mb = wired(request).settings.chat_max_photo_mb
    if len(content) > max_mb * 1024 * 1024:  # the body limit refuses it first; this keeps them one
        raise HTTPException(413, PHOTO_TOO_LARGE.format(mb=max_mb))
    if not content:
        raise HTTPException(422, EMPTY_PHOTO)
    kind = image_kind(content[:12])
    if kind is None:
        raise HTTPException(415, NOT_A_PHOTO)
    name = f"{uuid.uuid4().hex}.{kind}"
    await asyncio.to_thread((wired(request).uploads / name).write_bytes, content)
    replies = await wired(request).core.attach(CHANNEL, identity, photo=f"upload:{name}")
    return [reply.public() for reply in replies]


@router.post("/location")
async def location(request: Request, place: PlaceIn) -> list[dict[str, Any]]:
    """Keep the citizen's location pin (from the browser) for the case being reported."""
    identity = await _known(request, place.sender)
    latitude, longitude = place.latitude, place.longitude
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise HTTPException(422, BAD_PLACE)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise HTTPException(422, BAD_PLACE)
    replies = await wired(request).core.attach(CHANNEL, identity, location=(latitude, longitude))
    return [reply.public() for reply in replies]
