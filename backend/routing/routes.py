"""POST /api/v1/routing: public (no personal data in or out), rate-limited per client."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.limits import Limited
from backend.routing.service import MAX_ADDRESS_CHARS, MAX_TEXT_CHARS
from backend.routing.text import has_words

router = APIRouter(prefix="/api/v1", tags=["routing"])


class RoutingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS, description=f"at most {MAX_TEXT_CHARS} characters")]
    address: Annotated[str | None, Field(max_length=MAX_ADDRESS_CHARS)] = None

    @field_validator("text")
    @classmethod
    def has_content(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is empty")
        if not has_words(text):
            raise ValueError("text has no words (only symbols or emoji)")
        return text


@router.post("/routing")
def route(request: Request, body: RoutingIn, _: Limited) -> dict[str, Any]:
    """Suggest category, department, place, dispatch target and time limit for a message."""
    return request.app.state.routing.get().route(body.text, body.address).public()
