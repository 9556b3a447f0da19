"""What citizens' words say about their appeal, as plain rules (no Rasa here): its type (诉求类型),
whether a message only announces one ("我想反映个事儿") or has substance, puts an offer off, files
what was offered, names a field to correct, or gives a name."""

from __future__ import annotations

import re

INTENTION_WORDS = re.compile(
    r"你好|您好|在吗|请问|麻烦|我们|我|想|要|需要|帮我|帮忙|给我|投诉|举报|反映|反应|求助|建议|表扬|咨询|报修|登记|提交|报上去|"
    r"那就|就|提|说|有|"
    r"一下|一个|个|问题|事情|事儿|事|情况|意见|可以吗|行吗|吗|呢|啊|吧|了|下"
)


def is_bare_intention(text: str) -> bool:
    """Whether a message only says that the citizen wants to report something ("我想反映个事儿")."""
    rest = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", INTENTION_WORDS.sub("", text))
    return len(rest) < 2


APPEAL_LABELS = {
    "complaint": "投诉",
    "report": "举报",
    "help": "求助",
    "suggestion": "建议",
    "praise": "表扬",
    "consultation": "咨询",
}
NAMED_TYPES = re.compile(r"投诉|举报|建议|表扬|求助|咨询")
# A short message that files what was offered ("帮我登记", "那就提交吧", "投诉"), not one that announces a
# new matter ("我想反映个事儿": its description is asked for).
FILES_OFFER = re.compile(r"投诉|举报|登记|提交|报上去|建议|表扬|求助|咨询|就这个|这个事")
FIELD_WORDS = {
    "address": ("地址", "位置", "地点", "在哪"),
    "contact_phone": ("电话", "手机", "号码"),
    "contact_name": ("名字", "姓名", "称呼", "我叫", "姓"),
    "description": ("描述", "问题", "内容", "情况", "不是"),
}


def appeal_type(intent: str, text: str) -> str:
    """诉求类型 from the intent and the citizen's own words."""
    if intent == "suggest" or re.search(r"建议|提个意见", text):
        return "suggestion"
    if intent == "praise" or re.search(r"表扬|点赞|感谢.{0,8}(工作人员|师傅|街道|社区)", text):
        return "praise"
    if "举报" in text:
        return "report"
    if re.search(r"求助|帮帮|帮个忙|怎么办|救救", text):
        return "help"
    return "complaint"


def named_type(text: str) -> str | None:
    """The appeal type a short message names ("投诉", "我要举报"), None when it names none."""
    if not NAMED_TYPES.search(text):
        return None
    return "consultation" if "咨询" in text else appeal_type("", text)


NOISE = re.compile(
    r"你们?好|您们?好|在吗|在不在|有人吗|喂|嗨|哈喽|hello|hi|ok|谢谢|多谢|好的|好吧|行吧|可以|嗯|啊|哦|噢|呃|额|哈|呵|嘿|"
    r"测试|test|早上好|上午好|中午好|下午好|晚上好|再见|拜拜",
    re.IGNORECASE,
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
LETTERS = re.compile(r"[\u4e00-\u9fffA-Za-z]")  # characters of words, digits aside
# "先不登 我再想想": a short answer that puts the offer off is no appeal to offer in turn
PUTS_OFF = re.compile(r"不用|不要|不需要|不登|不报|先不|算了|再想想|再说|以后|回头")
PUTS_OFF_CHARS = 12
SUBSTANCE = 5  # Chinese characters beyond greetings, fillers and "I want to report" words
# Complaint words: a question that carries one is a complaint (投诉), else it is a consultation (咨询).
GRIEVANCE = re.compile(
    r"投诉|举报|违规|违法|违章|乱收费|乱涨价|多收|不合理|不作为|不给|拒绝|拖欠|欠薪|克扣|强行|强制|霸王|黑心|骗|"
    r"扰民|污染|一拖再拖|迟迟|无果|得不到|维权|侵占|损害|要求.{0,12}(处理|解决|查处|整改|退还|赔偿|补发|停止)|"
    r"严查|查处|整治|太差|恶劣"
)
QUESTION = re.compile(
    r"请问|咨询|想问|问一下|问下|是否|能否|可否|可不可以|能不能|怎么|如何|哪里|多少|什么|吗[？?。]*$|[？?]"
)
SUBJECT_CHARS = 24


def substantive(text: str) -> bool:
    """Whether a message says something beyond greetings, thanks, fillers, "I want to report" and
    "not now"."""
    if is_bare_intention(text) or puts_off(text):
        return False
    rest = CHINESE.findall(NOISE.sub("", text))
    return len(rest) >= SUBSTANCE and len(set(rest)) >= 3


def puts_off(text: str) -> bool:
    return len(CHINESE.findall(text)) <= PUTS_OFF_CHARS and PUTS_OFF.search(text) is not None


def offered_type(intent: str, text: str) -> str:
    """诉求类型 for an appeal taken in the citizen's words: a question without a grievance is a
    consultation (咨询); otherwise as the words say (appeal_type)."""
    kind = appeal_type(intent, text)
    asks = intent == "ask_question" or QUESTION.search(text) is not None
    if kind == "complaint" and asks and not GRIEVANCE.search(text):
        return "consultation"
    return kind


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUBJECT_CHARS else f"{flat[:SUBJECT_CHARS]}…"


def said_name(text: str) -> str | None:
    """The name in an answer to "怎么称呼您", None when it does not look like one."""
    name = re.sub(r"^(我|本人)?(叫|姓|是|名字是|就叫)", "", text.strip()).strip(" ，,。.")
    if not 1 <= len(name) <= 12 or not LETTERS.search(name):
        return None
    return name


def only_a_place(text: str, place: str | None) -> bool:
    """Whether an answer says nothing but a place ("海淀区清河街道" to "怎么称呼您"): no name in it."""
    if not place or place not in text:
        return False
    rest = re.sub(r"^(在|是|就在|地点是?|地址是?)", "", text.replace(place, "", 1).strip())
    return len(LETTERS.findall(rest)) <= 2


def field_named(text: str) -> str | None:
    """The case field a correction names ("地址不对"), None when it names none."""
    for field, words in FIELD_WORDS.items():
        if any(word in text for word in words):
            return field
    return None
