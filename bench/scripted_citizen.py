"""The scripted citizen of bench/real_conversations.py: how it reads the bot's answers, what it says next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.real_data import (
    beijing_places,
)

NAME = "我姓王"


DEFAULT_PLACE = "朝阳区望京街道"


@dataclass(frozen=True)
class Move:
    """What the citizen does next: a message or a button's payload, and how the bot's answer was read."""

    reading: str
    text: str = ""
    button: str | None = None


# How an answer of the bot is read, first match wins. Each entry: reading, words in the answers.
READINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("filed", ("已为您提交！工单号",)),
    ("emergency", ("请立即拨打", "如有危险，请立即拨打")),
    ("handoff", ("转接人工客服", "为您转接人工")),
    ("summary", ("请核对您要反映的内容",)),
    ("confidential", ("是否需要保密",)),
    ("knowledge_answer", ("如果还需要有关部门答复您",)),
    ("no_exact_answer", ("没有准确的答案", "知识库暂时查不到")),
    ("offer", ("我理解您是要",)),
    ("ask_description", ("请您具体描述一下",)),
    ("ask_place", ("发生在哪里", "没能确定这是哪个区", "至少告诉我在哪个区")),
    ("ask_name", ("怎么称呼您", "没听清您的称呼")),
    ("ask_phone", ("请留一个手机号", "这个号码好像不对")),
    ("not_understood", ("没太明白",)),
    ("status_check", ("工单号（13位数字", "请告诉我工单号", "手机号的后四位")),
    ("out_of_scope", ("这个我帮不上忙",)),
    ("not_filed", ("先不登记", "已取消", "那先这样")),
    ("what_can_i_do", ("请问有什么可以帮您", "这里是12345市民服务热线")),
)


WANT_TO_REPORT = "我是要反映问题，帮我登记"


def texts(replies: Sequence[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def buttons(replies: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in (r.get("buttons") or [])]


def read(replies: Sequence[dict[str, Any]]) -> str:
    """How the citizen reads the bot's answer (READINGS), "other" when nothing there fits."""
    said = texts(replies)
    if any("handoff" in (r.get("custom") or {}) for r in replies):
        return "emergency" if any(w in said for w in READINGS[1][1]) else "handoff"
    for reading, words in READINGS:
        if any(word in said for word in words):
            return reading
    return "other"


def next_move(replies: Sequence[dict[str, Any]], message: str, phone: str) -> Move:
    """The scripted citizen's answer to the bot's replies about `message`."""
    reading = read(replies)
    taps = buttons(replies)
    if reading in ("summary",):
        return Move(reading, button=_payload(taps, "确认提交", "/affirm"))
    if reading == "confidential":
        return Move(reading, button=_payload(taps, "不需要", "/deny"))
    if reading in ("knowledge_answer", "no_exact_answer", "offer"):
        offered = next((b for b in taps if b["title"].startswith("登记")), None)
        return Move(reading, button=offered["payload"]) if offered else Move(reading, "对，提交")
    answers = {
        "ask_description": message,
        "ask_place": place_in(message),
        "ask_name": f"{NAME}，电话{phone}",
        "ask_phone": phone,
    }
    return Move(reading, answers.get(reading, WANT_TO_REPORT))


def _payload(taps: list[dict[str, str]], title: str, default: str) -> str:
    return next((b["payload"] for b in taps if b["title"] == title), default)


def place_in(message: str) -> str:
    """The place a citizen would name: the first Beijing district (and street) in the message, else one."""
    districts, streets = beijing_places()
    found = [(message.find(p), -len(p), p) for p in (*streets, *districts) if p in message]
    return min(found)[2] if found else DEFAULT_PLACE


def phone_for(row: int) -> str:
    """A valid mobile number of the 139 block, one per conversation."""
    return f"139{row % 100_000_000:08d}"
