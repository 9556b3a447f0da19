"""Schemas of the Open311 API keys that admins issue to clients (the GeoReport formats are in formats.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class KeyOut(BaseModel):
    """A key as listed: never the key itself, which only its client holds."""

    id: int
    name: str
    fingerprint: str  # the start of the key's SHA-256, to tell keys apart
    active: bool
    created_at: datetime


class KeyIssued(KeyOut):
    api_key: str  # shown this once
