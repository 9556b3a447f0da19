"""What the gateway itself says to citizens about their messages (the bot's own words live in Rasa)."""

from __future__ import annotations

APOLOGY = (
    "抱歉，智能助手暂时无法回复。您的消息已经保存，恢复后会第一时间回复您。"
    "如遇紧急情况，请直接拨打110、119或120。"
)
# The bot had nothing to say: the message is kept in the transcript, and the citizen is asked what they need.
NOTHING_SAID = "收到。请问有什么可以帮您？您可以直接描述遇到的问题或想咨询的事，也可以说“查进度”“转人工”。"
STALE_BUTTON = "这个按钮已经失效了，请直接输入文字告诉我您的需要。"
EMPTY_MESSAGE = "您的消息好像是空的，请再说一遍。"
ATTACHED_PHOTO = "已收到图片，会附在您正在反映的问题里一并提交。"
ATTACHED_PLACE = (
    "已收到您的位置，会附在您反映的问题里。请再告诉我具体地址（区、街道、小区或道路），方便工作人员找到。"
)
QUEUED = (
    "现在咨询的市民比较多，您的消息已经收到、正在排队，稍后会按顺序回复您，不用重复发送。"
    "如遇紧急情况，请直接拨打110、119或120。"
)
STILL_WAITING = "已收到，人工客服接入后会看到您的每一条消息。您前面还有{ahead}位市民在等待，请稍候。"
HANDOFF_NOTICE = "已为您转接人工客服，您前面还有{ahead}位市民在等待，请稍候，客服接入后会直接在这里回复您。"
