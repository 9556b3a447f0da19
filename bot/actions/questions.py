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

from bot.actions.appeal_words import APPEAL_LABELS, offered_type
from bot.actions.appeals import offer, subject_of
from bot.actions.backend_client import Answer, BackendClient, BackendError
from bot.actions.tracker_reading import latest_text

NOT_KNOWN = "这个问题我暂时没有准确的答案。"
ASK_WHAT = "请问您想咨询什么？请直接输入您的问题。"
UNREACHABLE = "抱歉，知识库暂时查不到。"


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = latest_text(tracker)
        if question.startswith("/"):  # a button pressed (the web chat's 咨询): no question yet
            dispatcher.utter_message(text=ASK_WHAT)
            return []
        try:
            async with BackendClient.from_settings() as backend:
                found: Answer | None = await backend.answer(question)
        except BackendError:
            found = None
        answer = found.answer if found is not None and found.answered else None
        if answer and found is not None:
            dispatcher.utter_message(text=f"{answer}\n（{found.note}）")
        if tracker.active_loop_name:
            if not answer:
                dispatcher.utter_message(
                    text=f"{NOT_KNOWN if found else UNREACHABLE}稍后可以再问，我们先接着登记。"
                )
            return []
        kind = offered_type("ask_question", question)
        label = APPEAL_LABELS[kind]
        if answer:
            said = f"如果还需要有关部门答复您，我可以把这个{label}登记成工单。"
        else:
            # "no exact answer" only to a question: a grievance asked as a question is taken as one
            before = (NOT_KNOWN if found else UNREACHABLE) if kind == "consultation" else ""
            said = (
                f"{before}我理解您是要{label}：{await subject_of(question)}。"
                f"我可以帮您登记成{label}工单，由有关部门答复您；也可以说“转人工”。"
            )
        return offer(dispatcher, kind, said, question)
