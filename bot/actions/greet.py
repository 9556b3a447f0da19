"""Greet the citizen by the time of day in Beijing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

BEIJING = ZoneInfo("Asia/Shanghai")


def salutation(now: datetime) -> str:
    """Say 早上好/中午好/下午好/晚上好 for the hour in Beijing."""
    hour = now.astimezone(BEIJING).hour
    if 5 <= hour < 11:
        return "早上好"
    if 11 <= hour < 13:
        return "中午好"
    if 13 <= hour < 18:
        return "下午好"
    return "晚上好"


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_greet", salutation=salutation(datetime.now(BEIJING)))
        return []
