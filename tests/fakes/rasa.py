"""A fake Rasa server (REST channel and the HTTP API parts the gateway uses), plus the backend's event
feed, for channel tests that need a predictable bot. It can be switched off to answer 503."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TOKEN = "fake-rasa-token"
CHOICES = [
    {"title": "满意", "payload": '/rate{"satisfaction": "satisfied"}'},
    {"title": "不满意", "payload": "/deny"},
]


@dataclass
class FakeRasa:
    up: bool = True
    received: list[dict[str, Any]] = field(default_factory=list)
    triggered: list[dict[str, Any]] = field(default_factory=list)
    appended: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # the backend's case event feed
    ratings: list[dict[str, Any]] = field(default_factory=list)  # ratings posted to the backend
    rating_status: int = 200  # how the backend answers them
    delay_s: float = 0.0  # how long the bot "thinks" before answering
    hung: bool = False  # the REST channel takes messages and answers nothing until this is cleared
    refuse: dict[str, int] = field(default_factory=dict)  # sender -> the HTTP status its turns get
    in_flight: int = 0
    most_in_flight: int = 0  # the most messages the REST channel was working on at once

    def texts(self, sender: str | None = None) -> list[str]:
        return [r["message"] for r in self.received if sender is None or r["sender"] == sender]

    def reply(self, sender: str, message: str) -> list[dict[str, Any]]:
        if "按钮" in message:
            return [{"recipient_id": sender, "text": "请选择", "buttons": CHOICES}]
        if "转人工" in message:
            return [
                {"recipient_id": sender, "text": "好的，正在为您转接人工客服。"},
                {"recipient_id": sender, "custom": {"handoff": {"reason": "requested"}}},
            ]
        if message.startswith("/"):
            return [{"recipient_id": sender, "text": f"意图：{message}"}]
        if "不吭声" in message:  # a turn the bot answers with nothing
            return []
        return [{"recipient_id": sender, "text": f"收到：{message}"}]

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.get("/status")
        async def status(token: str = "") -> Response:
            if not self.up:
                return Response(status_code=503)
            return JSONResponse({"model_file": "fake.tar.gz"}, 200 if token == TOKEN else 401)

        @api.post("/webhooks/rest/webhook")
        async def rest(request: Request, token: str = "") -> Response:
            if not self.up or token != TOKEN:
                return Response(status_code=503 if not self.up else 401)
            body = await request.json()
            if body["sender"] in self.refuse:
                return Response(status_code=self.refuse[body["sender"]])
            self.received.append(body)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                for _ in range(6000):  # hung for two minutes at most
                    if not self.hung:
                        break
                    await asyncio.sleep(0.02)
            finally:
                self.in_flight -= 1
            return JSONResponse(self.reply(body["sender"], body["message"]))

        @api.post("/conversations/{sender}/trigger_intent")
        async def trigger(sender: str, request: Request, token: str = "") -> Response:
            if not self.up or token != TOKEN:
                return Response(status_code=503 if not self.up else 401)
            if sender in self.refuse:
                return Response(status_code=self.refuse[sender])
            self.triggered.append({"sender": sender, **(await request.json())})
            return JSONResponse({"messages": [{"text": "请问您反映的问题解决了吗？", "buttons": CHOICES}]})

        @api.post("/conversations/{sender}/tracker/events")
        async def append(sender: str, request: Request, token: str = "") -> Response:
            if not self.up or token != TOKEN:
                return Response(status_code=503 if not self.up else 401)
            events = await request.json()
            events = events if isinstance(events, list) else [events]
            self.appended.setdefault(sender, []).extend(events)
            for event in events:
                if event.get("event") == "slot":
                    self.slots.setdefault(sender, {})[event["name"]] = event["value"]
            return JSONResponse({"sender_id": sender})

        @api.get("/conversations/{sender}/tracker")
        async def tracker(sender: str, token: str = "") -> Response:
            if not self.up or token != TOKEN:
                return Response(status_code=503 if not self.up else 401)
            return JSONResponse({"sender_id": sender, "slots": self.slots.get(sender, {}), "events": []})

        @api.get("/health")  # the action server's, for a gateway pointed here (ACTION_SERVER_URL)
        async def health() -> Response:
            return Response(status_code=200 if self.up else 503)

        @api.get("/api/v1/events")
        async def case_events(after: int = 0, limit: int = 100) -> Response:
            return JSONResponse([e for e in self.events if e["id"] > after][:limit])

        @api.post("/api/v1/cases/{number}/rating")
        async def rate(number: str, request: Request) -> Response:
            if self.rating_status == 200:
                self.ratings.append({"number": number, **(await request.json())})
            return JSONResponse({"number": number}, self.rating_status)

        return api
