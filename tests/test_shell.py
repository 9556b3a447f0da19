"""`make shell`: the terminal conversation through the web chat API, buttons as numbered choices."""

from __future__ import annotations

import json

import httpx

from ops.shell import Chat

RATING = {
    "id": 7,
    "author": "bot",
    "text": "这次处理您满意吗？",
    "buttons": [
        {"title": "满意", "payload": '/rate{"rating_satisfaction": "满意"}'},
        {"title": "不满意", "payload": '/rate{"rating_satisfaction": "不满意"}'},
    ],
}


def web_chat(sent: list[dict[str, object]]) -> httpx.Client:
    """A stand-in for the gateway's web chat API that records what the shell sends."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/chat/api/session":
            return httpx.Response(200, json={"sender": "s" * 32})
        if request.url.path == "/chat/api/messages":
            sent.append(json.loads(request.content))
            return httpx.Response(200, json=[RATING])
        later = {"id": 8, "author": "operator", "text": "您好，我是接线员小王", "buttons": []}
        return httpx.Response(200, json=[{"id": 6, "author": "citizen", "text": "问一下"}, RATING, later])

    return httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(answer))


def test_buttons_show_as_numbered_choices_and_a_number_presses_one() -> None:
    sent: list[dict[str, object]] = []
    chat = Chat(web_chat(sent))
    chat.start()
    shown = chat.render(chat.send("问一下"))
    assert shown.splitlines() == ["助手: 这次处理您满意吗？", "    1) 满意", "    2) 不满意"]
    chat.send("2")
    assert sent[-1] == {
        "sender": "s" * 32,
        "text": "不满意",
        "button": '/rate{"rating_satisfaction": "不满意"}',
    }
    chat.send("3")  # no third choice: sent as the citizen's text
    assert sent[-1] == {"sender": "s" * 32, "text": "3"}


def test_messages_that_came_later_are_shown_once() -> None:
    chat = Chat(web_chat([]))
    chat.start()
    chat.render(chat.send("问一下"))
    assert chat.render(chat.later()) == "接线员: 您好，我是接线员小王"
    assert chat.render(chat.later()) == ""
