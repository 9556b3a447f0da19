"""The ids of a conversation: what the citizen holds, what the gateway keeps, what leaves the gateway.

A web chat citizen's only credential is the token their page was issued. The gateway keeps only its
SHA-256 as the conversation's identity (as it keeps console logins), and every id that leaves the
gateway — the Rasa sender id, the id on cases, what the console shows — is an HMAC of the identity
under GATEWAY_SECRET_KEY, so nothing staff can see opens the conversation. Telegram's chat id is no
credential, but every channel follows the same rule: `<channel>-<32 hex digits>`.
"""

from __future__ import annotations

import hashlib
import hmac


def identity_of_credential(credential: str) -> str:
    """The identity a web chat conversation is kept under: the SHA-256 of the page's token."""
    return hashlib.sha256(credential.encode()).hexdigest()


def derive_sender_id(key: str, channel: str, identity: str) -> str:
    """The conversation's id outside the gateway (Rasa, cases, the console)."""
    digest = hmac.new(key.encode(), f"{channel}:{identity}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:32]}"
