"""The console's API around a conversation: common replies, who is online, notes, and transfer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from connectors.console.auth import Hotline
from connectors.console.desk import add_note, transcript_line
from connectors.console.replies import CANNED_REPLIES
from connectors.console.routes import from_console_page
from connectors.console.takeover import TakeoverError
from connectors.wiring import wired

router = APIRouter(prefix="/console/api", tags=["console"], dependencies=[Depends(from_console_page)])


class NoteIn(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class TransferIn(BaseModel):
    to: Annotated[str, Field(min_length=1, max_length=64)]


@router.get("/replies")
async def replies(_: Hotline) -> list[dict[str, Any]]:
    return [reply.public() for reply in CANNED_REPLIES]


@router.get("/operators")
async def operators(request: Request, _: Hotline) -> list[dict[str, Any]]:
    """The staff who handle conversations and have a console open now: whom a conversation can go to."""
    online = wired(request).hub.online()
    return [
        {"username": o.username, "display_name": o.display_name, "role": o.role}
        for o in sorted(online.values(), key=lambda o: o.username)
    ]


@router.post("/conversations/{conversation_id}/notes", status_code=201)
async def note(conversation_id: int, body: NoteIn, request: Request, operator: Hotline) -> dict[str, Any]:
    """A note for staff only: in the console's transcript, never sent to the citizen."""
    try:
        added = await add_note(
            core=wired(request).core,
            sessions=wired(request).sessions,
            conversation_id=conversation_id,
            operator=operator,
            text=body.text,
        )
    except TakeoverError as error:
        raise HTTPException(error.status, error.message) from None
    return transcript_line(added)


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(
    conversation_id: int, body: TransferIn, request: Request, operator: Hotline
) -> dict[str, Any]:
    """Give a held conversation to another operator who is online."""
    to = wired(request).hub.online().get(body.to)
    if to is None:
        raise HTTPException(409, "对方不在线，不能转给他")
    try:
        conversation = await wired(request).takeover.transfer(conversation_id, operator, to)
    except TakeoverError as error:
        raise HTTPException(error.status, error.message) from None
    return {"id": conversation.id, "handling": conversation.handling, "operator": conversation.operator}
