"""Consultations (咨询): answer common questions from the backend's knowledge base, and offer to file them.

Whether the knowledge base answers or has no exact answer, the question is offered as a consultation
case (a complaint when it carries a grievance) in the citizen's own words: "好", "提交" or the button
files it, "投诉" starts a complaint about the same thing (bot/actions/appeals.py). In the middle of a
report the question is only answered, and the report goes on.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.appeal_words import offered_type
from bot.actions.appeals import offer, routed
from bot.actions.backend_client import Answer, BackendClient, BackendError
from bot.actions.tracker_reading import latest_text


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = latest_text(tracker)
        if question.startswith("/"):  # a button pressed (the web chat's 咨询): no question yet
            dispatcher.utter_message(response="utter_ask_question")
            return []
        try:
            async with BackendClient.from_settings() as backend:
                found: Answer | None = await backend.answer(question)
        except BackendError:
            found = None
        answer = found.answer if found is not None and found.answered else None
        if answer and found is not None:
            dispatcher.utter_message(response="utter_knowledge_answer", answer=answer, note=found.note)
        if tracker.active_loop_name:
            if not answer:
                dispatcher.utter_message(
                    response="utter_not_known_in_report" if found else "utter_knowledge_unreachable_in_report"
                )
            return []
        kind = offered_type("ask_question", question)
        if answer:  # the offer names no subject: routing waits until the citizen files it, if ever
            return offer(dispatcher, kind, "utter_offer_answered", question)
        # "no exact answer" only to a question: a grievance asked as a question is taken as one
        if kind != "consultation":
            response = "utter_offer_grievance"
        else:
            response = "utter_offer_not_known" if found else "utter_offer_knowledge_unreachable"
        return offer(dispatcher, kind, response, question, await routed(question))
