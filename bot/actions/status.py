"""Checking a case (查进度) and listing "my cases": details only for the citizen the case belongs to."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.backend_client import (
    BackendClient,
    BackendError,
    BackendUnavailable,
    CaseNotFound,
    CitizenCase,
    TooManyAttempts,
)
from bot.actions.tracker_reading import NOT_YET, beijing_time, channel_identity

# 13 digits from 20: as the hotline says it (2026112700001) or grouped by the citizen with a space or
# a dash anywhere (20261127-00001, 2026-1127-00001, 2026 11 27 00001); bot/data/nlu/regex.yml the same.
NUMBER = re.compile(r"(?<!\d)20(?:[\s\-－—_]?\d){11}(?!\d)")
SEPARATORS = re.compile(r"\D")
LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")
DONE = "done"


def find_case_number(text: str) -> str | None:
    match = NUMBER.search(text)
    return SEPARATORS.sub("", match.group(0)) if match else None


def describe(dispatcher: CollectingDispatcher, case: CitizenCase) -> None:
    """Tell a case's state, to the citizen it belongs to."""
    limit = NOT_YET
    if case.due_at and case.time_limit_label:
        limit = f"{case.time_limit_label}（{beijing_time(case.due_at)}前）"
    dispatcher.utter_message(
        response="utter_case_status",
        number=case.number,
        category=case.category_name or NOT_YET,
        status=case.status_text,
        unit=case.unit_name or NOT_YET,
        time_limit=limit,
        reply=case.latest_reply or NOT_YET,
    )


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """The phone's last four digits are asked only when the case is not this channel's own."""
        if tracker.get_slot("status_verified"):
            return ["case_number"]
        return domain_slots

    async def validate_case_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = find_case_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(response="utter_case_number_invalid")
            return {"case_number": None}
        return await self._look_up(dispatcher, tracker, number, None)

    async def validate_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        match = LAST4.search(str(value or ""))
        if match is None:
            dispatcher.utter_message(response="utter_phone_last4_invalid")
            return {"phone_last4": None}
        found = await self._look_up(dispatcher, tracker, tracker.get_slot("case_number"), match.group(1))
        if found.get("status_verified") or found.get("phone_last4") == DONE:
            return {"phone_last4": DONE, **found}
        dispatcher.utter_message(response="utter_phone_last4_mismatch")
        return {"phone_last4": None}

    async def _look_up(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, number: str, last4: str | None
    ) -> dict[str, Any]:
        try:
            async with BackendClient.from_settings() as backend:
                case = await backend.lookup(
                    number, phone_last4=last4, channel_identity=channel_identity(tracker)
                )
        except CaseNotFound:
            dispatcher.utter_message(response="utter_case_not_found", number=number)
            return {"case_number": None}
        except TooManyAttempts:
            dispatcher.utter_message(response="utter_too_many_attempts")
            return {"case_number": number, "phone_last4": DONE}
        except (BackendUnavailable, BackendError):
            dispatcher.utter_message(response="utter_service_unavailable")
            return {"case_number": number, "phone_last4": DONE}
        if case.verified:
            describe(dispatcher, case)
            return {"case_number": number, "status_verified": True}
        return {"case_number": number}


async def own_cases(tracker: Tracker) -> list[CitizenCase]:
    """The cases filed from this channel identity, newest first (BackendError when unreachable)."""
    async with BackendClient.from_settings() as backend:
        return await backend.my_cases(channel_identity(tracker))


class ActionAskCaseNumber(Action):
    """Asks for the case number, with this channel's latest cases as buttons (the case just filed
    among them), so "查进度" right after filing is one tap."""

    OFFERED = 3

    def name(self) -> str:
        return "action_ask_status_form_case_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            cases = (await own_cases(tracker))[: self.OFFERED]
        except BackendError:
            cases = []  # the question alone: the number can still be typed
        if not cases:
            dispatcher.utter_message(response="utter_ask_status_form_case_number")
            return []
        buttons = [
            {"title": f"{case.number} {case.category_name or ''}".strip(), "payload": case.number}
            for case in cases
        ]
        dispatcher.utter_message(response="utter_ask_case_number_or_pick", buttons=buttons)
        return []


class ActionFinishStatus(Action):
    def name(self) -> str:
        return "action_finish_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet("case_number", None), SlotSet("phone_last4", None), SlotSet("status_verified", None)]


class ActionListMyCases(Action):
    def name(self) -> str:
        return "action_list_my_cases"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            cases = await own_cases(tracker)
        except BackendError:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        if not cases:
            dispatcher.utter_message(response="utter_no_cases")
            return []
        listed = [f"{i}. {c.number} {c.category_name or ''}：{c.status_text}" for i, c in enumerate(cases, 1)]
        dispatcher.utter_message(response="utter_my_cases", count=len(cases), cases="\n".join(listed))
        return []
