"""Talk to the assistant in the terminal, as a citizen on the web chat would (`make shell`).

    python -m ops.shell [--url http://127.0.0.1:8080] [--nlu]

Every message goes through the gateway's web chat API, so the conversation is a real one: the bot,
its actions, the backend and hand-offs to an operator. The bot's buttons show as numbered choices;
type the number to press one. `--nlu` also shows what Rasa read in each message (intent, confidence,
entities), from its /model/parse, which does not touch the conversation. /restart starts a new
conversation; /quit or Ctrl-D ends.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import httpx

from ops.ready import health_checks, wait_healthy

WHO = {"bot": "助手", "operator": "接线员", "system": "系统"}


@dataclass
class Chat:
    """One web chat conversation: its sender, the choices last offered, the messages already shown."""

    client: httpx.Client
    sender: str = ""
    choices: list[dict[str, str]] = field(default_factory=list)
    shown: set[int] = field(default_factory=set)

    def start(self) -> None:
        answer = self.client.post("/chat/api/session")
        answer.raise_for_status()
        self.sender, self.choices, self.shown = str(answer.json()["sender"]), [], set()

    def send(self, typed: str) -> list[dict[str, Any]]:
        """Send what was typed: a button when it is the number of one offered, else text."""
        body: dict[str, Any] = {"sender": self.sender, "text": typed}
        if typed.isdigit() and 1 <= int(typed) <= len(self.choices):
            chosen = self.choices[int(typed) - 1]
            body = {"sender": self.sender, "text": chosen["title"], "button": chosen["payload"]}
        answer = self.client.post("/chat/api/messages", json=body)
        if answer.status_code >= 400:
            return [
                {"author": "system", "text": f"({answer.status_code}) {answer.text[:200]}", "buttons": []}
            ]
        return list(answer.json())

    def later(self) -> list[dict[str, Any]]:
        """Messages that came after the last answer (an operator, a queued reply, a case update)."""
        answer = self.client.get("/chat/api/history", params={"sender": self.sender})
        if answer.status_code != 200:
            return []
        return [m for m in answer.json() if m.get("author") != "citizen" and m.get("id") not in self.shown]

    def render(self, messages: list[dict[str, Any]]) -> str:
        """The messages as terminal lines; remembers their buttons as the choices for the next turn."""
        lines = []
        for message in messages:
            if isinstance(message.get("id"), int):
                self.shown.add(message["id"])
            who = WHO.get(str(message.get("author", "bot")), str(message.get("author")))
            if message.get("text"):
                lines.append(f"{who}: {message['text']}")
            if message.get("image"):
                lines.append(f"{who}: [图片] {message['image']}")
            if message.get("buttons"):
                self.choices = list(message["buttons"])
                lines += [f"    {n}) {b['title']}" for n, b in enumerate(self.choices, start=1)]
        return "\n".join(lines)


def nlu(rasa_url: str, token: str, text: str) -> str:
    """What Rasa reads in a message, in one line."""
    try:
        answer = httpx.post(
            f"{rasa_url}/model/parse", params={"token": token}, json={"text": text}, timeout=30
        )
        parsed = answer.json()
    except (httpx.HTTPError, ValueError) as error:
        return f"    (NLU: {error})"
    intent = parsed.get("intent") or {}
    entities = ", ".join(f"{e['entity']}={e['value']}" for e in parsed.get("entities", []))
    read = f"{intent.get('name')} {intent.get('confidence', 0):.2f}"
    return f"    (NLU: {read}; {entities})" if entities else f"    (NLU: {read})"


def converse(chat: Chat, show_nlu: bool) -> None:
    rasa_url = os.environ.get("RASA_URL") or f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"
    token = os.environ.get("RASA_TOKEN", "")
    while True:
        try:
            typed = input("你: ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if typed in ("/quit", "/exit"):
            return
        if typed == "/restart":
            chat.start()
            print("(新的对话)")
            continue
        if not typed:
            continue
        if show_nlu and not typed.isdigit():
            print(nlu(rasa_url, token, typed))
        print(chat.render(chat.send(typed)))
        if extra := chat.render(chat.later()):
            print(extra)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    port = os.environ.get("GATEWAY_PORT", "8080")
    parser.add_argument("--url", default=f"http://127.0.0.1:{port}", help="the gateway")
    parser.add_argument("--nlu", action="store_true", help="show Rasa's reading of each message")
    parser.add_argument("--probe", action="store_true", help="only say (exit 0) whether the gateway answers")
    parser.add_argument("--wait", type=float, default=0, help="first wait this long for every service")
    args = parser.parse_args()
    if args.probe:
        try:
            return 0 if httpx.get(f"{args.url}/health", timeout=2).status_code == 200 else 1
        except httpx.HTTPError:
            return 1
    if args.wait and (failing := wait_healthy(health_checks(), args.wait)):
        print(f"not healthy after {args.wait:.0f} s: {', '.join(failing)}", file=sys.stderr)
        return 1
    with httpx.Client(base_url=args.url, timeout=60) as client:
        chat = Chat(client)
        chat.start()
        print("和12345热线助手对话：直接输入文字；有选项时输入编号。/restart 重新开始，/quit 退出。")
        converse(chat, args.nlu)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
