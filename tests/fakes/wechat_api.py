"""A local fake of the WeChat Official Account platform, both sides of it.

`FakeWeChat.app()` serves the API the gateway calls (stable_token, customer-service and template
messages, media), issuing access tokens that expire and recording every call; failures (error codes)
can be injected per method, and citizens put outside the 48-hour window. `Citizen` plays WeChat's
servers calling the gateway's callback URL for one follower: signed, and in safe mode encrypted with
its own implementation of the protocol (not the gateway's), so a mistake in either side shows.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import os
import struct
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

APP_ID = "wx5f1c0d2e3a4b6c7d"
APP_SECRET = "fake-app-secret-0123456789abcdef"
TOKEN = "jiesuWeChatToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat's admin page makes them
ACCOUNT = "gh_12345beijing"
PHOTO = b"\xff\xd8\xff\xe0fake-wechat-jpeg\xff\xd9"


@dataclass
class FakeWeChat:
    expires_in: int = 7200
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> when it expires
    failures: dict[str, list[int]] = field(default_factory=dict)  # method -> error codes to answer
    outside_window: set[str] = field(default_factory=set)  # openids whose 48 hours are over
    token_delay_s: float = 0.0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _templates_seen: set[tuple[str, str]] = field(default_factory=set)

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens = {token: 0.0 for token in self.tokens}

    def fail(self, method: str, code: int, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend([code] * times)

    def called(self, method: str) -> list[dict[str, Any]]:
        return [body for name, body in list(self.calls) if name == method]

    def texts(self, openid: str) -> list[str]:
        """Customer-service text messages delivered to this citizen."""
        return [
            b["text"]["content"]
            for b in self.called("custom")
            if b["touser"] == openid and not b.get("_failed")
        ]

    def templates(self, openid: str) -> list[dict[str, Any]]:
        return [b for b in self.called("template") if b["touser"] == openid and not b.get("_failed")]

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/cgi-bin/stable_token")
        async def stable_token(request: Request) -> Response:
            body = await request.json()
            if body.get("appid") != APP_ID or body.get("secret") != APP_SECRET:
                return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
            if self.token_delay_s:
                await _sleep(self.token_delay_s)
            with self._lock:
                token = f"token-{next(self._ids)}-{os.urandom(4).hex()}"
                self.tokens[token] = time.time() + self.expires_in
            self.calls.append(("token", {}))
            return JSONResponse({"access_token": token, "expires_in": self.expires_in})

        @api.post("/cgi-bin/message/custom/send")
        async def custom(request: Request, access_token: str = "") -> Response:
            body = await request.json()
            return self._answer("custom", access_token, body, self._custom)

        @api.post("/cgi-bin/message/template/send")
        async def template(request: Request, access_token: str = "") -> Response:
            body = await request.json()
            return self._answer("template", access_token, body, self._template)

        @api.post("/cgi-bin/menu/create")
        async def menu(request: Request, access_token: str = "") -> Response:
            return self._answer("menu", access_token, await request.json(), lambda body: {})

        @api.get("/cgi-bin/media/get")
        async def media(access_token: str = "", media_id: str = "") -> Response:
            code = self._failure("media", access_token)
            self.calls.append(("media", {"media_id": media_id, **({"_failed": code} if code else {})}))
            if code:
                return JSONResponse({"errcode": code, "errmsg": "injected"})
            return Response(PHOTO, media_type="image/jpeg")

        return api

    def _answer(self, method: str, token: str, body: dict[str, Any], handle: Any) -> JSONResponse:
        code = self._failure(method, token)
        if code:
            self.calls.append((method, {**body, "_failed": code}))
            return JSONResponse({"errcode": code, "errmsg": "injected"})
        result = handle(body)
        if result.get("errcode"):
            self.calls.append((method, {**body, "_failed": result["errcode"]}))
        else:
            self.calls.append((method, body))
        return JSONResponse({"errcode": 0, "errmsg": "ok", **result})

    def _failure(self, method: str, token: str) -> int:
        with self._lock:
            if token not in self.tokens:
                return 40001
            if self.tokens[token] < time.time():
                return 42001
            queue = self.failures.get(method) or []
            return queue.pop(0) if queue else 0

    def _custom(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["touser"] in self.outside_window:
            return {"errcode": 45015}
        return {}

    def _template(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (body["touser"], body.get("client_msg_id") or str(next(self._ids)))
        with self._lock:
            if key in self._templates_seen:  # WeChat's guard: one message per client_msg_id
                return {"errcode": 0, "msgid": 0, "_repeat": True}
            self._templates_seen.add(key)
        return {"msgid": next(self._ids)}


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


# --- WeChat's servers calling the gateway ---------------------------------------------------------
def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's protocol


def _aes() -> Cipher[modes.CBC]:
    key = base64.b64decode(AES_KEY + "=")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(xml: str) -> str:
    padder = padding.PKCS7(256).padder()
    raw = xml.encode()
    plain = padder.update(os.urandom(16) + struct.pack(">I", len(raw)) + raw + APP_ID.encode())
    plain += padder.finalize()
    encryptor = _aes().encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def decrypt(encrypted: str) -> tuple[str, str]:
    """(message, appid) of an encrypted reply."""
    decryptor = _aes().decryptor()
    padded = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    unpadder = padding.PKCS7(256).unpadder()
    plain = unpadder.update(padded) + unpadder.finalize()
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[20 : 20 + length].decode(), plain[20 + length :].decode()


@dataclass
class Citizen:
    """One follower of the account, as WeChat's servers forward what they do to the gateway."""

    gateway: str
    openid: str
    safe_mode: bool = False
    token: str = TOKEN
    _ids: itertools.count = field(default_factory=lambda: itertools.count(int(time.time() * 1000)))

    def say(self, text: str, msg_id: int | None = None) -> httpx.Response:
        return self.send("text", Content=text, MsgId=str(msg_id or next(self._ids)))

    def share_location(self, latitude: float, longitude: float, label: str) -> httpx.Response:
        return self.send(
            "location",
            Location_X=str(latitude),
            Location_Y=str(longitude),
            Scale="16",
            Label=label,
            MsgId=str(next(self._ids)),
        )

    def send_photo(self, media_id: str = "media-1") -> httpx.Response:
        return self.send(
            "image", PicUrl="http://127.0.0.1/none.jpg", MediaId=media_id, MsgId=str(next(self._ids))
        )

    def event(self, event: str, key: str = "") -> httpx.Response:
        return self.send("event", Event=event, EventKey=key)

    def send(self, kind: str, *, timestamp: int | None = None, **fields: str) -> httpx.Response:
        body = message_xml(self.openid, kind, **fields)
        stamp, nonce = str(timestamp or int(time.time())), str(next(self._ids))
        params = {"signature": signature(self.token, stamp, nonce), "timestamp": stamp, "nonce": nonce}
        params["openid"] = self.openid
        if self.safe_mode:
            encrypted = encrypt(body)
            params.update(encrypt_type="aes", msg_signature=signature(self.token, stamp, nonce, encrypted))
            body = f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return httpx.post(f"{self.gateway}/wechat/callback", params=params, content=body.encode(), timeout=20)

    def reply_text(self, response: httpx.Response) -> str | None:
        """The passive reply's text (decrypted and its signature checked in safe mode); None for "success"."""
        if response.text in ("success", ""):
            return None
        root = ET.fromstring(response.text)  # noqa: S314 - the gateway's own reply
        if self.safe_mode:
            encrypted = root.findtext("Encrypt") or ""
            expected = signature(
                self.token, root.findtext("TimeStamp") or "", root.findtext("Nonce") or "", encrypted
            )
            assert root.findtext("MsgSignature") == expected, "the reply's msg_signature is wrong"
            xml, app_id = decrypt(encrypted)
            assert app_id == APP_ID
            root = ET.fromstring(xml)  # noqa: S314
        assert root.findtext("ToUserName") == self.openid and root.findtext("MsgType") == "text"
        return root.findtext("Content")


def message_xml(openid: str, kind: str, **fields: str) -> str:
    parts = [
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{int(time.time())}</CreateTime>",
        f"<MsgType><![CDATA[{kind}]]></MsgType>",
        *(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items()),
    ]
    return "<xml>" + "".join(parts) + "</xml>"
