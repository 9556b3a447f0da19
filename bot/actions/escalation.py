"""Emergencies first, and hand-offs to a person: asked for, after two messages without substance, anger,
repeats.

A hand-off is a custom message `{"handoff": {...}}` that the gateway acts on: it queues the
conversation for operators, tells the citizen the queue position and keeps the bot silent.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.backend_client import BackendClient, BackendError
from bot.actions.tracker_reading import latest_intent, latest_text

REASONS = {
    "request_human": "requested",
    "angry": "anger",
    "still_unresolved": "repeat_complaint",
    "nlu_fallback": "repeated_fallback",
    "emergency": "emergency",
}
CASE_SLOTS = (
    "description",
    "address",
    "district",
    "street",
    "category_name",
    "unit_name",
    "contact_name",
    "contact_phone",
    "appeal_type",
    "filed_case_number",
)


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> None:
    """Tell the citizen, and ask the gateway to queue the conversation with what is known so far."""
    dispatcher.utter_message(response=f"utter_handoff_{reason}")
    collected = {name: tracker.get_slot(name) for name in CASE_SLOTS if tracker.get_slot(name)}
    dispatcher.utter_message(json_message={"handoff": {"reason": reason, "collected": collected}})


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        hand_off(dispatcher, tracker, REASONS.get(latest_intent(tracker), "requested"))
        return []


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        found: dict[str, str] | None = None
        try:
            async with BackendClient.from_settings(timeout_s=1.5, retries=0) as backend:
                found = (await backend.route(text)).emergency
        except BackendError:
            found = None
        if found:
            dispatcher.utter_message(
                response="utter_emergency_call", danger=found["label"], call=found["call"]
            )
        else:
            dispatcher.utter_message(response="utter_emergency_numbers")
        hand_off(dispatcher, tracker, "emergency")
        return []
