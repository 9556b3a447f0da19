"""Letters and messages that name their appeal are appeals (no Rasa import here: tested in the main env).

A long message (a letter: background, dates, names, what the citizen wants) is an appeal to file, even
when one phrase inside it is the phrase of another intent: "一直没解决" in its history does not make it a
repeat complaint to hand over, "查一下" does not make it a status check, a "120" that came too late
does not make it an emergency, and a greeting at its start does not make it small talk. Such a letter
keeps only the readings a letter can have; the weight of every other reading goes to its best appeal
reading (report, suggestion, praise or question), so the letter is read as that with the confidence the
model gave the message as a whole. A letter stays a status check, a repeat complaint or a list of one's
cases when it carries a case number, an emergency when danger is happening now, and a request for a
person when it asks for one.

A message read as small talk (a greeting, thanks, a goodbye, "are you a bot") that says much more than
that ("领导您好，教育局网站一直打不开，请问…") is no small talk: without that reading the NLU is not sure what
it is, and the assistant takes it in the citizen's own words (the fallback offers to file it).

A message of 40 characters of words or more read as out of scope is no chatter, nor one read as a
cancel a "never mind": every out-of-scope and cancel example the model learned from is under 30, and a
citizen who writes that much is describing an appeal in words the model has not seen (a letter's first
60 characters, in traditional characters, were read as a cancel, and in a report they were refused as
the description again and again). It loses that reading the same way.

A message that declares its type ("…想投诉一下", "特此举报", "投诉xx单位…") is a report whatever
else it asks: the citizen said what they want.

A short request to file ("登记吧", "帮我登记", "那就提交吧", "麻烦报上去") is a yes: it answers the
offer to file (after a knowledge answer or an appeal taken in the citizen's words) and the summary.
The model read "登记吧" as a cancel and "那帮我登记下" as a goodbye. A request that names what to file
("帮我登记个投诉") stays with the model: it starts a report, of the offered words when one is offered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

LETTER_CHARS = 100  # words' characters (Chinese, Latin, digits) from which a message is a letter
APPEAL_INTENTS = ("report_issue", "suggest", "praise", "ask_question")
# The case-number pattern of bot/data/nlu/regex.yml and bot/actions/status.py.
CASE_NUMBER = re.compile(r"(?<!\d)20(?:[\s\-－—_]?\d){11}(?!\d)")
DANGER_NOW = re.compile(
    r"救命|快来人|着火了|起火了|烧起来了|火很大|冒烟了|煤气味|燃气味|(煤气|燃气)(泄漏|漏了)|"
    r"被困|困在|晕倒了|昏迷了|喘不上气|掉(进|到)水里|落水了|拿着刀|持刀|正在打人|要跳楼|不想活了"
)
ASKS_FOR_PERSON = re.compile(r"转人工|人工客服|找客服|真人")
WITH_CASE_NUMBER = frozenset({"check_status", "still_unresolved", "my_cases"})
DECLARED_ALSO = frozenset(
    {"angry", "still_unresolved", "emergency", "request_human", "cancel", "correct_info"}
)
# a complaint asked about ("我投诉的那个事到哪了") is a status check
ASKS_PROGRESS = re.compile(r"进度|进展|到哪|怎么样了|结果|回复|答复|处理了没|办了没|查一下|查查")
QUESTION_MARGIN = 0.2
# 投诉/举报 said as what the citizen does, not asked about ("投诉电话是多少", "怎么投诉").
DECLARED = re.compile(
    r"^(投诉|举报|控告)|(我|想|要|要求|必须|强烈|特此|实名|现|来|再次|依法)(要)?(投诉|举报|控告)|"
    r"(投诉|举报|控告)(一下|了|吧|啊|呀)?[\s。！!.…]*$"
)
ASKED_ABOUT = re.compile(
    r"(怎么|怎样|如何|去哪|哪里|在哪|向谁|找谁|找哪)(个部门)?(可以|能|才能)?(投诉|举报)|(投诉|举报)(电话|渠道|方式|途径)"
)
WORD = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
SMALL_TALK = frozenset({"greet", "thank", "goodbye", "bot_challenge"})
SMALL_TALK_WORDS = re.compile(
    r"尊敬的?|敬爱的?|亲爱的?|(各位|各级)?(领导|书记|市长|局长|厅长|主任|同志|工作人员|客服|小编|师傅)(们)?|"
    r"你们?好|您们?好|大家好|(早上|上午|中午|下午|晚上)好|早安|晚安|嗨|哈喽|hello|hi|在吗|在不在|有人吗|"
    r"谢谢|多谢|感谢|辛苦(了|啦)?|麻烦(了|您|你)?|再见|拜拜|回见|"
    r"你是|机器人|真人|人工|智能|吗|呢|啊|呀|哈|吧|了|的|我|您|你|们|这|那|是",
    re.IGNORECASE,
)
SMALL_TALK_SAYS_MORE = 10  # characters of words beyond the small talk
CHATTER_CHARS = 40  # characters of words from which a message is not chatter nor a "never mind"
SHORT_ONLY = frozenset({"out_of_scope", "cancel"})  # readings of short messages only

FILING_REQUEST = re.compile(
    r"^(好的?|行|成|可以|嗯+|对|是|那|那就|就|要|需要)?[\s，,。]*(那就|就)?(麻烦|帮忙|请)?(你|您)?(帮我|给我|帮忙|帮)?"
    r"(登记|提交|上报|报上去|报一下|报上|登上)(一下|下|上)?"
    r"(吧|呗|啊|呀|了|哈)?[\s。.!！~～]*$"
)

Ranking = Sequence[tuple[str, float]]


def letter_length(text: str) -> int:
    """How many characters of words a message has (no spaces, punctuation or emoji)."""
    return len(WORD.findall(text))


def is_letter(text: str) -> bool:
    return letter_length(text) >= LETTER_CHARS


def says_more_than_small_talk(text: str) -> bool:
    return letter_length(SMALL_TALK_WORDS.sub("", text)) >= SMALL_TALK_SAYS_MORE


def declares_complaint(text: str) -> bool:
    """Whether the citizen says they complain or report ("想投诉一下"), not asks how to."""
    return DECLARED.search(text) is not None and ASKED_ABOUT.search(text) is None


def letter_can_mean(intent: str, text: str) -> bool:
    """Whether a letter can mean a reading other than an appeal."""
    if intent in WITH_CASE_NUMBER:
        return CASE_NUMBER.search(text) is not None
    if intent == "emergency":
        return DANGER_NOW.search(text) is not None
    if intent == "request_human":
        return ASKS_FOR_PERSON.search(text) is not None
    return False


def declared_can_mean(intent: str, text: str) -> bool:
    """What a message that declares a complaint can be besides one: the readings that act on it in
    their own way (anger and repeats go to a person, emergencies get the number, a form in progress is
    corrected or cancelled)."""
    if intent in ("check_status", "my_cases"):
        return CASE_NUMBER.search(text) is not None or ASKS_PROGRESS.search(text) is not None
    return intent in DECLARED_ALSO


def letter_appeal(scores: dict[str, float]) -> str:
    """The appeal a letter is: the best reading, but a question only when clearly more a question than
    a report (a letter describes what happened; a tie is filed, not answered from the knowledge base)."""
    best = max(APPEAL_INTENTS, key=lambda name: scores.get(name, 0.0))
    if best == "ask_question" and scores[best] - scores.get("report_issue", 0.0) < QUESTION_MARGIN:
        return "report_issue"
    return best


def as_appeal(text: str, ranking: Ranking) -> list[tuple[str, float]] | None:
    """The ranking re-read for a letter, a declared complaint, or small talk or chatter that says more,
    highest first; None when the message is none of them. A letter's or a declared complaint's appeal
    reading takes the weight of every reading the message cannot have; small talk or chatter that says
    more loses those readings and their weight (so the fallback decides on what is left)."""
    scores = dict(ranking)
    if ranking and FILING_REQUEST.match(text.strip()):
        return [("affirm", sum(value for _, value in ranking))]
    if ranking and ranking[0][0] in SMALL_TALK and not is_letter(text) and says_more_than_small_talk(text):
        return [(name, value) for name, value in ranking if name not in SMALL_TALK]
    if ranking and ranking[0][0] in SHORT_ONLY and CHATTER_CHARS <= letter_length(text) < LETTER_CHARS:
        return [(name, value) for name, value in ranking if name not in SHORT_ONLY]
    if is_letter(text):
        appeal = letter_appeal(scores)
        kept = {name: value for name, value in ranking if letter_can_mean(name, text)}
    elif declares_complaint(text):
        appeal = "report_issue"
        kept = {name: value for name, value in ranking if declared_can_mean(name, text)}
    else:
        return None
    kept[appeal] = sum(value for name, value in ranking if name not in kept)
    return sorted(kept.items(), key=lambda item: (-item[1], item[0]))
