"""Alibaba Cloud SMS (阿里云短信服务, dysmsapi 2017-05-25): SendSms and QuerySendDetails over its RPC API,
signed as its documentation describes (HMAC-SHA1 over the sorted, percent-encoded parameters, with the
AccessKey secret and "&" as the key). Inbound replies (上行短信, SmsUp) arrive by its HTTP push:
`connectors/sms/routes.py`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx

from connectors.sms.provider import SmsRefused, SmsUnavailable

VERSION = "2017-05-25"
BEIJING = timezone(timedelta(hours=8))
THROTTLED = {"isv.BUSINESS_LIMIT_CONTROL": 60.0, "Throttling.User": 5.0, "isp.SYSTEM_ERROR": 10.0}
QUOTA = {"isv.DAY_LIMIT_CONTROL": 3600.0, "isv.MONTH_LIMIT_CONTROL": 3600.0}  # the account's own limits


def percent(text: str) -> str:
    """Alibaba Cloud's percent-encoding: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(text, safe="-_.~")


def sign(params: dict[str, str], secret: str, method: str = "POST") -> str:
    canonical = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent('/')}&{percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    def __init__(
        self, *, base_url: str, access_key_id: str, access_key_secret: str, sign_name: str, timeout_s: float
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._key_id, self._secret, self.sign_name = access_key_id, access_key_secret, sign_name

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, *, phone: str, template: str, params: dict[str, str], out_id: str) -> str:
        answer = await self._call(
            "SendSms",
            PhoneNumbers=phone,
            SignName=self.sign_name,
            TemplateCode=template,
            TemplateParam=json.dumps(params, ensure_ascii=False),
            OutId=out_id,
        )
        return str(answer.get("BizId") or "sent")

    async def sent_before(self, *, phone: str, out_id: str, since: datetime) -> str | None:
        days = {since.astimezone(BEIJING).date(), datetime.now(BEIJING).date()}
        for day in sorted(days):
            answer = await self._call(
                "QuerySendDetails",
                PhoneNumber=phone,
                SendDate=day.strftime("%Y%m%d"),
                PageSize="50",
                CurrentPage="1",
            )
            details = (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            for detail in details:
                if str(detail.get("OutId") or "") == out_id:
                    return str(detail.get("BizId") or "sent")
        return None

    async def _call(self, action: str, **params: str) -> dict[str, Any]:
        body = {
            "AccessKeyId": self._key_id,
            "Action": action,
            "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": VERSION,
            **params,
        }
        body["Signature"] = sign(body, self._secret)
        try:
            response = await self._http.post("/", data=body)
        except httpx.HTTPError as error:
            raise SmsUnavailable(f"{action}: {type(error).__name__}") from error
        if response.status_code >= 500:
            raise SmsUnavailable(f"{action}: HTTP {response.status_code}")
        answer: dict[str, Any] = response.json()
        code = str(answer.get("Code") or "")
        if code == "OK":
            return answer
        if code in THROTTLED or code in QUOTA:
            raise SmsUnavailable(f"{action}: {code}", retry_after=THROTTLED.get(code) or QUOTA.get(code))
        raise SmsRefused(f"{action}: {code} {answer.get('Message') or ''}".strip())
