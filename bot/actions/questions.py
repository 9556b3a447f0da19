"""Consultations (咨询): answer common questions from the backend's knowledge base."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.backend import BackendClient, BackendError
from bot.actions.citizen import latest_text

NOT_KNOWN = (
    "这个问题我暂时没有准确的答案。您可以说“转人工”咨询客服，或者直接描述您的情况，我帮您提交咨询工单。"
)


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            async with BackendClient.from_settings() as backend:
                found = await backend.answer(latest_text(tracker))
        except BackendError:
            dispatcher.utter_message(text="抱歉，知识库暂时查不到，请稍后再问，或说“转人工”。")
            return []
        if found.answered and found.answer:
            dispatcher.utter_message(text=f"{found.answer}\n（{found.note}）")
        else:
            dispatcher.utter_message(text=NOT_KNOWN)
        return []
