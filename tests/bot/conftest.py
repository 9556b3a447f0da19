"""Action tests: actions as functions of (tracker, dispatcher) against a fake backend, no network."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.backend_client import BackendClient

ROOT = Path(__file__).resolve().parents[2]
IDENTITY = "webchat-citizen-abc"


class FakeBackend:
    """Answers the routes the actions use, records every request, and can be made to fail."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.failures = 0  # answer this many requests with 503 first
        self.lost_answers = 0  # carry out this many requests, but answer them with 503 (a timeout)
        self.cases: dict[str, dict[str, Any]] = {}
        self.submissions: dict[str, tuple[dict[str, Any], str]] = {}  # Idempotency-Key -> (case, number)
        self.routing: dict[str, Any] = {
            "category": {"code": "cooking_fumes", "name": "餐饮油烟"},
            "department": {"code": "urban_enforcement", "name": "北京市城市管理综合行政执法局"},
            "dispatch_to": {
                "kind": "department",
                "code": "urban_enforcement",
                "name": "北京市城市管理综合行政执法局",
            },
            "district": {"code": "110105", "name": "朝阳区"},
            "street": {"code": "110105026", "name": "望京街道"},
            "urgency": "general",
            "response_hours": 168,
            "emergency": None,
            "confidence": 0.9,
            "department_confidence": 0.93,
            "needs_review": False,
            "alternatives": [
                {
                    "category": {"code": "outdoor_ads", "name": "户外广告与牌匾"},
                    "department": {"code": "urban_enforcement", "name": "北京市城市管理综合行政执法局"},
                    "confidence": 0.04,
                },
                {"category": {"code": "other", "name": "其他"}, "department": None, "confidence": 0.02},
            ],
        }
        self.knowledge = {
            "answered": True,
            "note": "以上信息仅供参考。",
            "hits": [{"answer": "北京市法定供暖期为每年11月15日至次年3月15日。"}],
        }

    def add_case(
        self, number: str, *, identity: str = IDENTITY, phone: str = "13800138000", **extra: Any
    ) -> None:
        self.cases[number] = {
            "identity": identity,
            "phone": phone,
            "status": "in_progress",
            "status_text": "承办单位正在办理",
            "latest_reply": None,
            **extra,
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures > 0:
            self.failures -= 1
            return httpx.Response(503, json={"detail": "unavailable"})
        answer = self._answer(request)
        if self.lost_answers > 0:
            self.lost_answers -= 1
            return httpx.Response(503, json={"detail": "timed out"})
        return answer

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        if path == "/api/v1/routing":
            return httpx.Response(200, json=self.routing)
        if path == "/api/v1/cases":
            return self._create(body, request.headers.get("Idempotency-Key"))
        if path == "/api/v1/citizen/submission":
            if body["idempotency_key"] not in self.submissions:
                return httpx.Response(404, json={"detail": "no case was filed with this idempotency key"})
            return self._created(self.submissions[body["idempotency_key"]][1], created=False)
        if path == "/api/v1/citizen/lookup":
            return self._lookup(body)
        if path == "/api/v1/citizen/cases":
            identity = request.url.params["channel_identity"]
            return httpx.Response(
                200, json=[self._view(n, c) for n, c in self.cases.items() if c["identity"] == identity]
            )
        if path.endswith("/rating"):
            number = path.split("/")[4]
            reopened = body["satisfaction"] == "dissatisfied"
            self.cases[number]["rating"] = body
            return httpx.Response(
                200, json={"number": number, "status": "dispatched" if reopened else "rated"}
            )
        if path == "/api/v1/knowledge/search":
            return httpx.Response(200, json=self.knowledge)
        return httpx.Response(404, json={"detail": "not here"})

    def _create(self, body: dict[str, Any], key: str | None) -> httpx.Response:
        """As the backend does: the same key with the same case answers that case, with another 409."""
        if key in self.submissions:
            earlier, number = self.submissions[key]
            if earlier != body:
                return httpx.Response(
                    409, json={"detail": "this idempotency key was used for a different case"}
                )
            return self._created(number, created=False)
        number = f"20261127{len(self.cases) + 1:05d}"
        self.add_case(number, identity=body.get("channel_identity"), phone=body.get("contact_phone"))
        if key:
            self.submissions[key] = (body, number)
        return self._created(number, created=True)

    @staticmethod
    def _created(number: str, *, created: bool) -> httpx.Response:
        case = {
            "number": number,
            "lead_unit": {"name": "北京市城市管理综合行政执法局"},
            "category_name": "餐饮油烟",
            "time_limit_label": "7天内办结",
            "due_at": "2026-12-04T11:00:00Z",
        }
        return httpx.Response(201 if created else 200, json={"case": case, "created": created})

    def _lookup(self, body: dict[str, Any]) -> httpx.Response:
        case = self.cases.get(body["number"])
        if case is None:
            return httpx.Response(404, json={"detail": "no case"})
        verified = body.get("channel_identity") == case["identity"] or (
            body.get("phone_last4") is not None and case["phone"][-4:] == body["phone_last4"]
        )
        if not verified:
            return httpx.Response(200, json={"number": body["number"], "verified": False})
        return httpx.Response(200, json=self._view(body["number"], case))

    @staticmethod
    def _view(number: str, case: dict[str, Any]) -> dict[str, Any]:
        return {
            "number": number,
            "verified": True,
            "status": case["status"],
            "status_text": case["status_text"],
            "category_name": "餐饮油烟",
            "unit_name": "北京市城市管理综合行政执法局",
            "due_at": "2026-12-04T11:00:00Z",
            "time_limit_label": "7天内办结",
            "latest_reply": case["latest_reply"],
            "can_rate": case["status"] == "resolved",
        }

    def last(self, path: str) -> httpx.Request:
        return next(r for r in reversed(self.requests) if r.url.path == path)


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBackend]:
    fake = FakeBackend()

    def client(*, timeout_s: float | None = None, retries: int = 2) -> BackendClient:
        return BackendClient(
            base_url="http://backend.test",
            token="t",
            timeout_s=timeout_s or 1,
            retries=retries,
            transport=httpx.MockTransport(fake.handle),
        )

    monkeypatch.setattr(BackendClient, "from_settings", staticmethod(client))
    monkeypatch.setattr("bot.actions.backend_client.asyncio.sleep", _no_sleep)
    yield fake


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))


def tracker(
    *,
    text: str = "",
    intent: str = "report_issue",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    set_now: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    sender: str = IDENTITY,
    active_loop: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest user message is `text`; `set_now` are slots set after it (to validate)."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    history = list(events or [])
    history.append({"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}})
    history += [{"event": "slot", "name": k, "value": v} for k, v in (set_now or {}).items()]
    all_slots = {**(slots or {}), **(set_now or {})}
    return Tracker(
        sender,
        all_slots,
        latest,
        history,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


RESPONSES: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (ROOT / "bot" / "domain.yml").read_text(encoding="utf-8")
)["responses"]


def shown(message: dict[str, Any]) -> dict[str, Any]:
    """A dispatched message as the citizen gets it: a response is filled in from domain.yml with the
    action's arguments, as Rasa fills it (its buttons first, then any the action added). A `{name}`
    the action did not give fails the test (Rasa would show the braces)."""
    name = message.get("response")
    if not name:
        return message
    template = RESPONSES[name][0]
    values = {k: v for k, v in message.items() if k != "response"}
    filled = {"text": template["text"].format_map(values)}
    buttons = [{**b, "title": b["title"].format_map(values)} for b in template.get("buttons", [])]
    filled["buttons"] = buttons + list(message.get("buttons") or [])
    return filled


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [shown(m).get("text") or "" for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
