"""python-telegram-bot for real against a local fake of the Telegram Bot API, polling and webhook."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import httpx

from ops.stack import Stack, wait_until
from tests.connectors.conftest import gateway
from tests.fakes.rasa import FakeRasa
from tests.fakes.telegram_api import TOKEN, FakeTelegram

CHAT = 4242


def sender(stack: Stack, chat: int = CHAT) -> str:
    return stack.sender_id("telegram", str(chat))


def telegram_stack(
    tmp_path: Path, fake_rasa: FakeRasa, fake_telegram: FakeTelegram, *, webhook_secret: str = "", **env: str
) -> Stack:
    """A gateway on Telegram against the fakes: polling, or webhook mode with this secret."""
    if webhook_secret:
        env.update(
            TELEGRAM_MODE="webhook",
            TELEGRAM_WEBHOOK_SECRET=webhook_secret,
            GATEWAY_PUBLIC_URL="https://chat.example.org",
        )
    base = f"{fake_telegram.url}/bot"  # type: ignore[attr-defined]
    return gateway(tmp_path, fake_rasa, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=base, **env)


def texts_to(fake: FakeTelegram, chat: int = CHAT) -> list[str]:
    return [m["text"] for m in fake.sent(chat)]


def test_a_message_is_answered_on_telegram(
    telegram_gateway: Stack, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.say(CHAT, "楼下油烟太大了")
    assert wait_until(lambda: "收到：楼下油烟太大了" in texts_to(fake_telegram), 20)
    assert fake_rasa.received[-1]["sender"] == sender(telegram_gateway)
    assert fake_rasa.received[-1]["metadata"]["channel"] == "telegram"


def test_buttons_are_inline_keyboards_and_clicks_are_answered(
    telegram_gateway: Stack, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.say(CHAT, "给我按钮")
    assert wait_until(lambda: "请选择" in texts_to(fake_telegram), 20)
    keyboard = fake_telegram.sent(CHAT)[-1]["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["满意", "不满意"]
    fake_telegram.click(CHAT, keyboard[0][0]["callback_data"])
    assert wait_until(
        lambda: '/rate{"satisfaction": "satisfied"}' in fake_rasa.texts(sender(telegram_gateway)), 20
    )
    assert wait_until(lambda: len(fake_telegram.called("answerCallbackQuery")) == 1, 10)


def test_forged_or_stale_buttons_cannot_inject_intents(
    telegram_gateway: Stack, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.say(CHAT, "给我按钮")
    assert wait_until(lambda: "请选择" in texts_to(fake_telegram), 20)
    fake_telegram.click(CHAT, "b:1:0")  # a message that never offered buttons to this chat
    fake_telegram.say(CHAT, '/request_human{"reason": "x"}')
    assert wait_until(lambda: len(fake_telegram.called("answerCallbackQuery")) == 1, 10)
    assert wait_until(
        lambda: any("request_human" in t for t in fake_rasa.texts(sender(telegram_gateway))), 20
    )
    assert not any(t.startswith("/") for t in fake_rasa.texts(sender(telegram_gateway)))


def test_commands(telegram_gateway: Stack, fake_telegram: FakeTelegram, fake_rasa: FakeRasa) -> None:
    """/start and /status reach the bot as trusted intents, not as Chinese text for the NLU to read."""
    fake_telegram.say(CHAT, "/start")
    assert wait_until(lambda: "意图：/greet" in texts_to(fake_telegram), 20)
    fake_telegram.say(CHAT, "/help")
    assert wait_until(lambda: any("转人工" in t for t in texts_to(fake_telegram)), 20)
    fake_telegram.say(CHAT, "/status")
    assert wait_until(lambda: "意图：/my_cases" in texts_to(fake_telegram), 20)
    assert fake_rasa.texts(sender(telegram_gateway)) == ["/greet", "/my_cases"]


def test_a_location_pin_becomes_the_place_of_the_report(
    telegram_gateway: Stack, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.share_location(CHAT, 39.99671, 116.47061)
    assert wait_until(lambda: any("已收到您的位置" in t for t in texts_to(fake_telegram)), 20)
    assert fake_rasa.slots[sender(telegram_gateway)]["location"] == {
        "latitude": 39.99671,
        "longitude": 116.47061,
        "label": None,
    }


def test_photos_are_kept_and_attached(
    telegram_gateway: Stack, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.send_photo(CHAT, caption="路灯坏了 你们看")
    assert wait_until(lambda: "收到：路灯坏了 你们看" in texts_to(fake_telegram), 20)
    assert fake_telegram.called("getFile")[0]["file_id"] == f"large-{CHAT}"
    [photo] = fake_rasa.slots[sender(telegram_gateway)]["attachments"]
    stored = Path(telegram_gateway.env["JIESU_DATA_DIR"]) / "uploads" / photo["ref"].removeprefix("upload:")
    assert stored.read_bytes().startswith(b"\xff\xd8")


def test_rate_limits_and_server_errors_are_retried_and_each_message_arrives_once_in_order(
    telegram_gateway: Stack, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail("sendMessage", 429, times=2, retry_after=1)
    fake_telegram.fail("sendMessage", 502, times=2)
    for text in ("第一条", "第二条", "第三条"):
        fake_telegram.say(CHAT, text)
    expected = ["收到：第一条", "收到：第二条", "收到：第三条"]
    assert wait_until(lambda: texts_to(fake_telegram) == expected, 40), texts_to(fake_telegram)
    failed = [p for m, p in fake_telegram.calls if m == "sendMessage" and "_failed" in p]
    assert [p["_failed"] for p in failed] == [429, 429, 502, 502]


def test_the_gateway_restarting_mid_delivery_loses_and_repeats_nothing(
    tmp_path: Path, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    stack = telegram_stack(tmp_path, fake_rasa, fake_telegram)
    try:
        fake_telegram.fail("sendMessage", 503, times=1000)  # Telegram is down: replies pile up
        for text in ("一", "二", "三"):
            fake_telegram.say(CHAT, text)
        assert wait_until(lambda: len(fake_rasa.texts(sender(stack))) == 3, 20)
        assert wait_until(lambda: unanswered_updates(stack) == 0, 20)  # handled: not handled again
        stack.kill("gateway")
        fake_telegram.failures.clear()  # Telegram is back while the gateway is down
        stack.start("gateway", timeout_s=30)
        assert wait_until(lambda: len(fake_telegram.sent(CHAT)) == 3, 30)
        assert texts_to(fake_telegram) == ["收到：一", "收到：二", "收到：三"]
        assert len(fake_rasa.texts(sender(stack))) == 3  # nothing was processed twice either
    finally:
        stack.stop()


def test_webhook_mode_checks_the_secret_and_ignores_repeated_updates(
    tmp_path: Path, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    secret = "s3cret-token-for-webhook"
    stack = telegram_stack(tmp_path, fake_rasa, fake_telegram, webhook_secret=secret)
    try:
        assert wait_until(lambda: fake_telegram.webhook is not None, 20)
        assert fake_telegram.webhook["url"] == "https://chat.example.org/telegram/webhook"  # type: ignore[index]
        assert fake_telegram.webhook["secret_token"] == secret  # type: ignore[index]
        update = fake_telegram.say(CHAT, "网钩模式你好")
        fake_telegram.updates.clear()  # delivered by webhook only, never by polling
        url = f"{stack.url('gateway')}/telegram/webhook"
        assert httpx.post(url, json=update, timeout=10).status_code == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
        assert httpx.post(url, json=update, headers=wrong, timeout=10).status_code == 403
        right = {"X-Telegram-Bot-Api-Secret-Token": secret}
        assert httpx.post(url, json=update, headers=right, timeout=10).json() == {"ok": True}
        assert httpx.post(url, json=update, headers=right, timeout=10).json()["duplicate"] is True
        assert httpx.post(url, content=b"garbage", headers=right, timeout=10).status_code == 400
        assert wait_until(lambda: "收到：网钩模式你好" in texts_to(fake_telegram), 20)
        assert fake_rasa.texts(sender(stack)) == ["网钩模式你好"]
        assert not fake_telegram.called("getUpdates")

        # Updates have their own body limit (1 MB), above the gateway's 64 KB, chunked or not.
        later = fake_telegram.say(CHAT, "第二条")
        fake_telegram.updates.clear()
        oversized = json.dumps({**later, "padding": "x" * 1_100_000}).encode()
        chunks = (oversized[i : i + 65_536] for i in range(0, len(oversized), 65_536))
        assert httpx.post(url, content=chunks, headers=right, timeout=10).status_code == 413
        large = {**later, "padding": "x" * 200_000}
        assert httpx.post(url, json=large, headers=right, timeout=10).json() == {"ok": True}  # not seen
        assert wait_until(lambda: "收到：第二条" in texts_to(fake_telegram), 20)
    finally:
        stack.stop()


def test_without_a_token_telegram_is_off_and_the_web_chat_runs(web_gateway: Stack) -> None:
    assert web_gateway.health_details()["telegram"] == "off"
    assert "Telegram is off" in web_gateway.logs("gateway")


def unanswered_updates(stack: Stack) -> int:
    with sqlite3.connect(Path(stack.env["JIESU_DATA_DIR"]) / "gateway.db") as db:
        return int(db.execute("SELECT count(*) FROM seen_updates WHERE state != 'done'").fetchone()[0])


def citizen_lines(stack: Stack) -> list[tuple[str, str]]:
    """The citizen's lines in the gateway's transcript, with their state."""
    with sqlite3.connect(Path(stack.env["JIESU_DATA_DIR"]) / "gateway.db") as db:
        rows = db.execute("SELECT text, state FROM messages WHERE author = 'citizen' ORDER BY id").fetchall()
    return [(str(t), str(s)) for t, s in rows]


def test_an_update_acknowledged_by_polling_survives_a_crash_before_it_was_handled(
    tmp_path: Path, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    stack = telegram_stack(tmp_path, fake_rasa, fake_telegram)
    try:
        fake_telegram.delays["getFile"] = 60  # the bot is fetching the photo when the gateway dies
        update = fake_telegram.send_photo(CHAT, caption="井盖丢了 很危险")
        assert wait_until(lambda: fake_telegram.acknowledged(update["update_id"]), 20)
        assert wait_until(lambda: len(fake_telegram.called("getFile")) == 1, 20)
        stack.kill("gateway")
        assert fake_rasa.texts(sender(stack)) == []
        fake_telegram.delays.clear()
        stack.start("gateway", timeout_s=30)
        assert wait_until(lambda: "收到：井盖丢了 很危险" in texts_to(fake_telegram), 30)
        assert fake_rasa.texts(sender(stack)) == ["井盖丢了 很危险"]
        assert len(fake_rasa.slots[sender(stack)]["attachments"]) == 1
        assert wait_until(lambda: unanswered_updates(stack) == 0, 10)
    finally:
        stack.stop()


def test_an_update_acknowledged_by_the_webhook_survives_a_crash_before_it_was_handled(
    tmp_path: Path, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    secret = "another-webhook-secret"
    stack = telegram_stack(tmp_path, fake_rasa, fake_telegram, webhook_secret=secret)
    try:
        assert wait_until(lambda: fake_telegram.webhook is not None, 20)
        fake_telegram.delays["getFile"] = 60
        update = fake_telegram.send_photo(CHAT, caption="路灯一直不亮")
        fake_telegram.updates.clear()
        url = f"{stack.url('gateway')}/telegram/webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        assert httpx.post(url, json=update, headers=headers, timeout=10).json() == {"ok": True}
        assert wait_until(lambda: len(fake_telegram.called("getFile")) == 1, 20)
        stack.kill("gateway")
        fake_telegram.delays.clear()
        stack.start("gateway", timeout_s=30)
        assert wait_until(lambda: "收到：路灯一直不亮" in texts_to(fake_telegram), 30)
        assert httpx.post(url, json=update, headers=headers, timeout=10).json()["duplicate"] is True
        assert fake_rasa.texts(sender(stack)) == ["路灯一直不亮"]
    finally:
        stack.stop()


def test_edits_media_the_bot_cannot_read_and_cut_texts_are_answered_in_chinese(
    tmp_path: Path, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    stack = telegram_stack(tmp_path, fake_rasa, fake_telegram, CHAT_MAX_MESSAGE_CHARS="50")
    try:
        said = fake_telegram.say(CHAT, "小区门口的路灯坏了")
        assert wait_until(lambda: "收到：小区门口的路灯坏了" in texts_to(fake_telegram), 20)
        fake_telegram.edit(CHAT, said["message"], "小区门口的路灯坏了三盏")
        assert wait_until(lambda: any("修改" in t for t in texts_to(fake_telegram)), 20)
        for send, expected in (
            (lambda: fake_telegram.send_voice(CHAT), "语音"),
            (lambda: fake_telegram.send_document(CHAT, "情况说明.pdf", "application/pdf"), "文件"),
            (lambda: fake_telegram.send_document(CHAT, "IMG_0042.jpg", "image/jpeg"), "照片"),
            (lambda: fake_telegram.send_sticker(CHAT), "表情"),
        ):
            before = len(texts_to(fake_telegram))
            send()
            assert wait_until(lambda n=before: len(texts_to(fake_telegram)) == n + 1, 20)
            answer = texts_to(fake_telegram)[-1]
            assert expected in answer and "文字" in answer and not re.search("[A-Za-z]", answer), answer
        long = "我家楼下的烧烤店每天晚上营业到凌晨两三点，油烟和噪音非常大，" * 3
        fake_telegram.say(CHAT, long)
        cut = long[:50]
        assert wait_until(lambda: f"收到：{cut}" in texts_to(fake_telegram), 20)
        assert "只收到了前50个字" in texts_to(fake_telegram)[-2]
        assert fake_rasa.texts(sender(stack)) == ["小区门口的路灯坏了", cut]  # no edit, no media, no rest
        lines = [text for text, _ in citizen_lines(stack)]
        assert lines[1] == "[修改] 小区门口的路灯坏了三盏" and lines[2:6] == [
            "[语音]",
            "[文件]",
            "[文件]",
            "[表情贴纸]",
        ]
    finally:
        stack.stop()


def test_each_chat_has_a_rate_limit_said_in_chinese_once(
    tmp_path: Path, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    stack = telegram_stack(tmp_path, fake_rasa, fake_telegram, CHAT_MESSAGES_PER_MINUTE="3")
    try:
        for n in range(6):
            fake_telegram.say(CHAT, f"第{n + 1}条")
        fake_telegram.say(777, "我是另一位市民")
        assert wait_until(lambda: "收到：我是另一位市民" in texts_to(fake_telegram, 777), 20)
        assert wait_until(lambda: len(citizen_lines(stack)) == 7, 20)
        assert wait_until(lambda: len(texts_to(fake_telegram)) == 4, 20)
        notices = [t for t in texts_to(fake_telegram) if "太快" in t]
        assert len(notices) == 1 and not re.search("[A-Za-z]", notices[0])
        assert len(fake_rasa.texts(sender(stack))) == 3
        states = [state for text, state in citizen_lines(stack) if text.startswith("第")]
        assert sorted(states) == ["processed"] * 3 + ["rejected"] * 3  # every message kept
    finally:
        stack.stop()
