"""The actions' one client of the case backend: typed answers, explicit timeouts, specific errors."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any

import httpx

from bot.actions.settings import get_settings

log = logging.getLogger(__name__)


class BackendError(Exception):
    """The backend refused the request (bad input, forbidden, conflict)."""


class BackendUnavailable(BackendError):
    """The backend could not be reached or answered 5xx."""


class CaseNotFound(BackendError):
    pass


class TooManyAttempts(BackendError):
    pass


class Conflict(BackendError):
    """The request conflicts with what the backend has (e.g. an Idempotency-Key used for other data)."""


@dataclass(frozen=True)
class Routing:
    category_code: str
    category_name: str
    department_code: str
    department_name: str
    unit_name: str
    district_code: str | None
    district: str | None
    street_code: str | None
    street: str | None
    time_limit_label: str
    confidence: float
    department_confidence: float
    needs_review: bool
    emergency: dict[str, str] | None
    alternatives: tuple[dict[str, Any], ...] = ()

    def carried(self) -> dict[str, Any]:
        """The routing in codes, as the case takes it (`routing` of POST /api/v1/cases): the backend
        uses it instead of routing the case again."""
        return {
            "category_code": self.category_code,
            "department_code": self.department_code,
            "district_code": self.district_code,
            "street_code": self.street_code,
            "confidence": self.confidence,
            "department_confidence": self.department_confidence,
            "needs_review": self.needs_review,
            "emergency": self.emergency is not None,
            "alternatives": list(self.alternatives),
        }

    def kept(self, text: str) -> dict[str, Any]:
        """This routing of `text`, to keep in a slot (offered_routing) until the text is filed."""
        return {"text": text, **asdict(self), "alternatives": list(self.alternatives)}

    @classmethod
    def kept_for(cls, slot: Any, text: str) -> Routing | None:
        """The routing kept in a slot, if it is the routing of `text`."""
        if not isinstance(slot, dict) or slot.get("text") != text:
            return None
        fields = {k: v for k, v in slot.items() if k != "text"}
        try:
            return cls(**{**fields, "alternatives": tuple(fields.get("alternatives") or ())})
        except TypeError:  # kept by an earlier version with other fields: route again
            return None


@dataclass(frozen=True)
class CitizenCase:
    number: str
    verified: bool
    status: str | None = None
    status_text: str | None = None
    category_name: str | None = None
    unit_name: str | None = None
    due_at: str | None = None
    time_limit_label: str | None = None
    latest_reply: str | None = None
    can_rate: bool = False


@dataclass(frozen=True)
class NewCase:
    """A case as the assistant files it (the body of POST /api/v1/cases)."""

    appeal_type: str
    description: str
    address: str | None
    contact_name: str | None
    contact_phone: str | None
    anonymous: bool
    confidential: bool
    channel: str
    channel_identity: str
    conversation_id: str
    routing: dict[str, Any] | None = None  # the conversation's routing; without it the backend routes
    attachments: list[dict[str, Any]] = field(default_factory=list)
    pin: tuple[float, float] | None = None  # a location the citizen shared

    def body(self) -> dict[str, Any]:
        body = asdict(self)
        pin = body.pop("pin")
        if pin is not None:
            body["latitude"], body["longitude"] = pin
        return body


@dataclass(frozen=True)
class CreatedCase:
    number: str
    unit_name: str | None
    category_name: str | None
    time_limit_label: str
    due_at: str


@dataclass(frozen=True)
class Answer:
    answered: bool
    answer: str | None
    note: str


LIMIT_LABELS = {
    "emergency": "2小时内反馈",
    "utility": "24小时内办理",
    "general": "7天内办结",
    "complex": "15天内办结",
}


class BackendClient:
    """`budget_s`: every call of this client, retries included, ends within it from the client's
    creation; an action creates its client as it starts, and must answer before Rasa stops waiting
    (RASA_ACTION_TIMEOUT_S), else its events are lost while the backend may have acted on it."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout_s: float,
        retries: int = 2,
        budget_s: float = 18.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.retries = retries
        self.timeout_s = timeout_s
        self._deadline = time.monotonic() + budget_s
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
        )

    @classmethod
    def from_settings(cls, *, timeout_s: float | None = None, retries: int = 2) -> BackendClient:
        settings = get_settings()
        return cls(
            base_url=settings.backend_url,
            token=settings.backend_service_token.get_secret_value(),
            timeout_s=timeout_s or settings.backend_timeout_s,
            retries=retries,
            budget_s=settings.backend_budget_s,
        )

    async def __aenter__(self) -> BackendClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def route(self, text: str, address: str | None = None) -> Routing:
        body = await self._call("POST", "/api/v1/routing", json={"text": text[:1000], "address": address})
        district, street = body.get("district") or {}, body.get("street") or {}
        return Routing(
            category_code=body["category"]["code"],
            category_name=body["category"]["name"],
            department_code=body["department"]["code"],
            department_name=body["department"]["name"],
            unit_name=body["dispatch_to"]["name"],
            district_code=district.get("code"),
            district=district.get("name"),
            street_code=street.get("code"),
            street=street.get("name"),
            time_limit_label=LIMIT_LABELS[body["urgency"]],
            confidence=float(body["confidence"]),
            department_confidence=float(body["department_confidence"]),
            needs_review=bool(body["needs_review"]),
            emergency=body.get("emergency"),
            alternatives=tuple(
                {
                    "category_code": a["category"]["code"],
                    "department_code": (a.get("department") or {}).get("code"),
                    "confidence": float(a["confidence"]),
                }
                for a in body["alternatives"]
            ),
        )

    async def create_case(self, case: NewCase, *, idempotency_key: str) -> CreatedCase:
        body = await self._call(
            "POST", "/api/v1/cases", json=case.body(), headers={"Idempotency-Key": idempotency_key}
        )
        return _created_case(body["case"])

    async def submitted_case(self, *, idempotency_key: str) -> CreatedCase:
        """The case an earlier submission with this key filed (it timed out, but was saved)."""
        body = await self._call(
            "POST", "/api/v1/citizen/submission", json={"idempotency_key": idempotency_key}
        )
        return _created_case(body["case"])

    async def lookup(self, number: str, *, phone_last4: str | None, channel_identity: str) -> CitizenCase:
        body = await self._call(
            "POST",
            "/api/v1/citizen/lookup",
            json={"number": number, "phone_last4": phone_last4, "channel_identity": channel_identity},
        )
        return _citizen_case(body)

    async def my_cases(self, channel_identity: str) -> list[CitizenCase]:
        body = await self._call("GET", "/api/v1/citizen/cases", params={"channel_identity": channel_identity})
        return [_citizen_case(item) for item in body]

    async def rate(
        self, number: str, *, resolved: bool, satisfaction: str, comment: str | None, channel_identity: str
    ) -> dict[str, Any]:
        return await self._call(
            "POST",
            f"/api/v1/cases/{number}/rating",
            json={
                "resolved": resolved,
                "satisfaction": satisfaction,
                "comment": comment,
                "channel_identity": channel_identity,
            },
        )

    async def answer(self, question: str) -> Answer:
        body = await self._call("GET", "/api/v1/knowledge/search", params={"q": question[:500], "limit": 1})
        hits = body.get("hits") or []
        return Answer(
            answered=bool(body["answered"]), answer=hits[0]["answer"] if hits else None, note=body["note"]
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request, retried on connection errors and 5xx with a short back-off, within the budget."""
        for attempt in range(self.retries + 1):
            try:
                async with asyncio.timeout(min(self.timeout_s, self._deadline - time.monotonic())):
                    response = await self._http.request(method, path, **kwargs)
            except (httpx.HTTPError, TimeoutError) as error:
                failure: str = type(error).__name__
            else:
                if response.status_code < 500:
                    return self._parse(response, path)
                failure = f"HTTP {response.status_code}"
            log.warning(
                "backend %s %s failed (%s), attempt %d", method, path.split("/")[3], failure, attempt + 1
            )
            pause = 0.5 * 2**attempt
            if attempt == self.retries or self._deadline - time.monotonic() < pause + 0.5:
                break
            await asyncio.sleep(pause)
        raise BackendUnavailable(f"{method} {path}: {failure}")

    @staticmethod
    def _parse(response: httpx.Response, path: str) -> Any:
        if response.status_code == 404:
            raise CaseNotFound(path)
        if response.status_code == 429:
            raise TooManyAttempts(path)
        if response.status_code == 409:
            raise Conflict(path)
        if response.status_code >= 400:
            detail = response.json().get("detail", "") if response.content else ""
            raise BackendError(f"HTTP {response.status_code}: {detail}")
        return response.json()


def _created_case(created: dict[str, Any]) -> CreatedCase:
    return CreatedCase(
        number=created["number"],
        unit_name=(created.get("lead_unit") or {}).get("name"),
        category_name=created.get("category_name"),
        time_limit_label=created["time_limit_label"],
        due_at=created["due_at"],
    )


def _citizen_case(body: dict[str, Any]) -> CitizenCase:
    fields = {name: body.get(name) for name in CitizenCase.__dataclass_fields__}
    fields["can_rate"] = bool(body.get("can_rate"))
    fields["verified"] = bool(body.get("verified"))
    return CitizenCase(**fields)  # type: ignore[arg-type]
