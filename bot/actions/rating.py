"""Rating a resolved case (回访): started by the gateway, answered with buttons or in words."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.backend_client import BackendClient, BackendError
from bot.actions.status import find_case_number
from bot.actions.tracker_reading import channel_identity, entity, latest_intent
from bot.shared.rating_words import NO_RATING_INTENTS, satisfaction_value

RATING_SLOTS = ("rating_case", "rating_resolved", "rating_satisfaction", "rating_comment")


class ActionStartRating(Action):
    def name(self) -> str:
        return "action_start_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = find_case_number(entity(tracker, "case_number") or "")
        reply = ""
        if number:
            try:
                async with BackendClient.from_settings() as backend:
                    case = await backend.lookup(
                        number, phone_last4=None, channel_identity=channel_identity(tracker)
                    )
                reply = case.latest_reply if case.verified and case.latest_reply else ""
            except BackendError:
                reply = ""
        dispatcher.utter_message(
            response="utter_rating_invite_with_reply" if reply else "utter_rating_invite",
            number=number,
            reply=reply,
        )
        return [
            *(SlotSet(name, None) for name in RATING_SLOTS),
            SlotSet("rating_case", number),
            SlotSet("case_number", None),
        ]


class ValidateRatingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_rating_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Ask why only when the citizen is dissatisfied."""
        if tracker.get_slot("rating_satisfaction") == "dissatisfied":
            return domain_slots
        return [slot for slot in domain_slots if slot != "rating_comment"]

    async def extract_rating_satisfaction(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Asked 满意吗, a rating in words the model did not mark ("打个五星吧", "及格吧") is still
        the answer, whatever intent the message was read as (a question or a new report is not)."""
        if tracker.get_slot("requested_slot") != "rating_satisfaction" or tracker.get_slot(
            "rating_satisfaction"
        ):
            return {}
        if latest_intent(tracker) in NO_RATING_INTENTS:
            return {}
        value = satisfaction_value(str(tracker.latest_message.get("text") or ""))
        return {"rating_satisfaction": value} if value else {}

    async def validate_rating_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"rating_comment": str(value or "").strip()[:1000] or "未说明"}


class ActionSubmitRating(Action):
    def name(self) -> str:
        return "action_submit_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("rating_case")
        satisfaction = tracker.get_slot("rating_satisfaction")
        reset = [SlotSet(name, None) for name in RATING_SLOTS]
        if not number or not satisfaction:
            return reset
        try:
            async with BackendClient.from_settings() as backend:
                case = await backend.rate(
                    number,
                    resolved=bool(tracker.get_slot("rating_resolved")),
                    satisfaction=satisfaction,
                    comment=tracker.get_slot("rating_comment"),
                    channel_identity=channel_identity(tracker),
                )
        except BackendError:
            dispatcher.utter_message(response="utter_rating_not_saved")
            return reset
        if case.get("status") == "dispatched":
            dispatcher.utter_message(response="utter_rating_reopened")
        elif satisfaction == "dissatisfied":
            dispatcher.utter_message(response="utter_rating_dissatisfied")
        else:
            dispatcher.utter_message(response="utter_rating_thanks")
        return reset
