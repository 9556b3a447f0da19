"""Every appeal is accepted (有求必应): a message the NLU could not place is taken in the citizen's words.

When the NLU is unsure (nlu_fallback) or the dialogue has no next step for a message (the policies'
fallback), a message with substance is an appeal: the bot says in one line how it understood it (the
type of appeal and its subject, from the routing API) and offers to file it, one tap or a yes. Only
greetings, thanks and noise get "what can I do for you". The offer is kept in `offered_appeal` and
`offered_type`: a yes files it (action_accept_appeal, then the report form), and so does a bare "帮我登记"
or "投诉" later in the conversation (validate_case_form takes the offered words as the description).
A knowledge answer offers the question the same way (bot/actions/questions.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.appeal_words import APPEAL_LABELS, excerpt, offered_type, puts_off, substantive
from bot.actions.backend_client import BackendClient, BackendError, Routing
from bot.actions.escalation import hand_off
from bot.actions.tracker_reading import latest_intent, latest_text

OTHER_CATEGORY = "other"


async def routed(text: str) -> Routing | None:
    """The routing API's reading of the appeal (None when the backend cannot be reached)."""
    try:
        async with BackendClient.from_settings() as backend:
            return await backend.route(text)
    except BackendError:
        return None


def subject_of(text: str, routing: Routing | None) -> str:
    """What the appeal is about in a few words: the routing API's category, else the citizen's own."""
    if routing is None or routing.category_code == OTHER_CATEGORY:
        return f"“{excerpt(text)}”"
    return f"{routing.category_name}方面的问题"


def offer(
    dispatcher: CollectingDispatcher,
    kind: str,
    response: str,
    text: str,
    routing: Routing | None = None,
) -> list[EventType]:
    """One line saying how the appeal was understood (`response`, an utter_offer_* with its buttons),
    and the offer to file it (a tap or a yes). Its routing is kept with it (offered_routing), so that
    filing it does not route it again (validate_case_form takes the kept one)."""
    dispatcher.utter_message(response=response, label=APPEAL_LABELS[kind], subject=subject_of(text, routing))
    offered = text[:2000]
    return [
        SlotSet("offered_appeal", offered),
        SlotSet("offered_type", kind),
        SlotSet("offered_routing", routing.kept(offered) if routing else None),
    ]


class ActionFallback(Action):
    """A message the NLU could not place, or one the dialogue has no step for: an appeal with
    substance is offered for filing; greetings and noise get "what can I do"; a third message in a row
    without substance goes to a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        if puts_off(text) and tracker.get_slot("offered_appeal"):
            dispatcher.utter_message(response="utter_not_filed")
            return forget_offer()
        if substantive(text):
            kind = offered_type(latest_intent(tracker), text)
            return offer(dispatcher, kind, "utter_offer_appeal", text, await routed(text))
        if unplaced_in_a_row(tracker.events) >= 2:
            hand_off(dispatcher, tracker, "repeated_fallback")
            return []
        dispatcher.utter_message(response="utter_default")
        return []


def unplaced_in_a_row(events: list[dict[str, Any]]) -> int:
    """How many of the latest user messages in a row the NLU could not place and said nothing."""
    count = 0
    for event in reversed(events):
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if intent != "nlu_fallback" or substantive(str(event.get("text") or "")):
                break
            count += 1
    return count


class ActionAcceptAppeal(Action):
    """The citizen said yes to the offer: its words become the report's description and its type the
    appeal type; the report form follows and asks for what is missing. Nothing offered: the form asks
    for the description."""

    def name(self) -> str:
        return "action_accept_appeal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offered = tracker.get_slot("offered_appeal")
        if not offered:
            return []
        return [
            SlotSet("description", offered),
            SlotSet("appeal_type", tracker.get_slot("offered_type") or "complaint"),
            SlotSet("offered_appeal", None),
            SlotSet("offered_type", None),
            # offered_routing stays until the report form takes it with the description
        ]


def forget_offer() -> list[EventType]:
    return [SlotSet("offered_appeal", None), SlotSet("offered_type", None), SlotSet("offered_routing", None)]
