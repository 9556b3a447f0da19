"""A local fake of Alibaba Cloud SMS's RPC API (SendSms, QuerySendDetails): it checks each request's
signature with its own implementation of the documented algorithm, records what was sent, and can
answer with an error code or take a message and then not answer in time (as a lost response would)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

KEY_ID = "LTAI5tFakeKeyForJiesu"
KEY_SECRET = "fake-access-key-secret-for-tests"


def encode(text: str) -> str:
    """The documented recipe: form-encode, then + → %20, * → %2A, %7E → ~."""
    return quote_plus(text, encoding="utf-8").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def expected_signature(params: dict[str, str]) -> str:
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
    to_sign = "POST&%2F&" + encode(canonical)
    return base64.b64encode(
        hmac.new(f"{KEY_SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()


@dataclass
class FakeSms:
    sent: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # Codes to answer SendSms with, in turn
    lose_answers: int = 0  # SendSms calls that send, then answer too late
    queries: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(900001))

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["phone"] == phone]

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/")
        async def rpc(request: Request) -> Response:
            params = {k: str(v) for k, v in (await request.form()).items()}
            if params.get("AccessKeyId") != KEY_ID or params.get("Signature") != expected_signature(params):
                return JSONResponse({"Code": "SignatureDoesNotMatch", "Message": "bad signature"}, 400)
            if params.get("Action") == "SendSms":
                return await self._send(params)
            if params.get("Action") == "QuerySendDetails":
                self.queries += 1
                details = [
                    {"PhoneNum": m["phone"], "OutId": m["out_id"], "BizId": m["biz_id"], "SendStatus": 3}
                    for m in self.to(params["PhoneNumber"])
                ]
                return JSONResponse({"Code": "OK", "SmsSendDetailDTOs": {"SmsSendDetailDTO": details}})
            return JSONResponse({"Code": "InvalidAction"}, 400)

        return api

    async def _send(self, params: dict[str, str]) -> Response:
        if self.failures:
            return JSONResponse({"Code": self.failures.pop(0), "Message": "injected"})
        message = {
            "phone": params["PhoneNumbers"],
            "sign": params["SignName"],
            "template": params["TemplateCode"],
            "params": json.loads(params["TemplateParam"]),
            "out_id": params.get("OutId", ""),
            "biz_id": f"{next(self._ids)}^0",
        }
        self.sent.append(message)
        if self.lose_answers:
            self.lose_answers -= 1
            await asyncio.sleep(5)  # longer than the gateway waits: it cannot know the message went
        return JSONResponse({"Code": "OK", "Message": "OK", "BizId": message["biz_id"], "RequestId": "r"})
