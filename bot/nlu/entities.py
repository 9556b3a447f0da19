"""Entity clean-up shared by the Rasa component and its tests (no Rasa import here).

Phone and case numbers have an exact shape, so the regular expressions decide them: a learned
(DIET) entity that overlaps a pattern match is dropped, and a learned phone or case number that no
pattern confirms is dropped too. A bare name matched by its shape (a surname and one or two
characters, the whole message) counts only when the message answers a question (inform,
correct_info): "谢谢" and "查进度" have that shape too. One place the model split in two ("朝阳区" +
"劲松八区", or around a short untagged piece like "二区") is joined again; a one-character place
("口" of "落户口") is no place, nor a number in words ("十五六度"). "姓马" is the surname 马 (the span
too), whatever the model called it. A rating word becomes one of the three satisfaction values by
rule ("很不满意" → dissatisfied), and a word that is none of them ("挺") is dropped. A place cut one
word short gets the station word that follows it ("上地" + "地铁站"), and one that ran on past 那边
or 附近 ends there; a rating keeps the word of degree before it ("很" + "不满意"); 姓 or 我叫 alone
is no name, nor is one character except right after 姓. A question, a status query or a report
carries no rating. Spans never start or end with spaces. In a letter (bot/nlu/letters.py) a name is the
citizen's only when introduced as theirs (我叫, 本人, 联系人): the others are the people the letter is
about; and its place is the first one it names (the slot would take the last).
"""

from __future__ import annotations

import re
from typing import Any

from bot.nlu.letters import is_letter
from bot.shared.rating_words import NO_RATING_INTENTS, satisfaction_value

PATTERN_EXTRACTOR = "RegexEntityExtractor"
PATTERN_ENTITIES = frozenset({"phone_number", "case_number"})
ANSWER_INTENTS = frozenset({"inform", "correct_info"})
JOINED_ENTITIES = frozenset({"address"})
JOINABLE_GAP = re.compile(r"\w{0,2}")  # no space or punctuation, at most two characters


def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return int(a["start"]) < int(b["end"]) and int(b["start"]) < int(a["end"])


def trimmed(entity: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The entity without surrounding spaces; None when nothing is left."""
    start, end = int(entity["start"]), int(entity["end"])
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return None
    if (start, end) == (entity["start"], entity["end"]):
        return entity
    value = entity.get("value")
    same_text = value == text[int(entity["start"]) : int(entity["end"])]
    return {**entity, "start": start, "end": end, "value": text[start:end] if same_text else value}


def joined(entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Join neighbouring pieces of one place (sorted input; values must be the text itself)."""
    out: list[dict[str, Any]] = []
    for entity in entities:
        last = out[-1] if out else None
        if (
            last is not None
            and entity["entity"] == last["entity"]
            and entity["entity"] in JOINED_ENTITIES
            and JOINABLE_GAP.fullmatch(text[int(last["end"]) : int(entity["start"])])
            and last.get("value") == text[int(last["start"]) : int(last["end"])]
            and entity.get("value") == text[int(entity["start"]) : int(entity["end"])]
        ):
            out[-1] = {**last, "end": entity["end"], "value": text[int(last["start"]) : int(entity["end"])]}
        else:
            out.append(entity)
    return out


SURNAME_GIVEN = re.compile(r"姓(\w{1,2})")
# The common one-character surnames, the same as the name patterns of the training data
# (bot/data/nlu/regex.yml; a test keeps the two equal).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟"
    "艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Where a name begins: the start, a space or punctuation, or the words that introduce one.
NAME_LEAD = re.compile(r"(?:^|[\s,，:：、]|是|叫|我)$")
# A title or a word the model may take for a name when it stands alone ("师傅干活挺利索", "没有任何资质"):
# with a surname it is one ("赵师傅"), alone it is none.
NOT_NAMES = frozenset(
    {
        "师傅",
        "师父",
        "大爷",
        "大妈",
        "阿姨",
        "叔叔",
        "大姐",
        "大哥",
        "保安",
        "物业",
        "老师",
        "医生",
        "领导",
        "同志",
        "老板",
        "邻居",
        "房东",
        "业主",
        "工作人员",
        "任何",
        "有人",
        "别人",
        "本人",
    }
)
COMPOUND_SURNAMES = re.compile(
    r"欧阳|司马|上官|诸葛|东方|皇甫|慕容|令狐|夏侯|尉迟|公孙|长孙|宇文|司徒|端木|独孤|南宫|呼延|澹台|西门|轩辕|万俟|闻人|申屠"
)
# A title that makes a name with the surname written before it ("董" + "警官", "米" + "女士").
TITLES = re.compile(r"女士|先生|警官|老师|师傅|大爷|大妈|阿姨|大姐|大哥|叔叔|同志|经理|主任|医生|大夫")
# The words a name was said with, not part of it: "叫兰小军", "称呼我范女士", "侯勇啊", "骆静吧".
NAME_BEFORE = re.compile(r"^(?:称呼我|称呼|叫我|我叫|我是|写成|写|记成|记|叫|我|是)")
NAME_AFTER = re.compile(r"(?:行了|就行|啊|吧|哈|呀|呢|嘛|啦|了)$")
# A character that ends a sentence or starts the next word, never the last of a name.
NOT_NAME_END = frozenset("的了吧啊呀哈呢嘛啦说在家这那和跟是都也就还又吗")
# "不是凌先生", "不姓章", "写成了公孙里": the name said there is the wrong one.
DENIED_NAME = re.compile(r"(?:不是|不姓|不叫|写成了?|写的是)$")
# "…的屈" after a word: the word spells the character 屈 of a name.
SPELLED = re.compile(r"的(\w)(?!\w)")
NO_NAME = re.compile(r"[我叫姓是名字]+")  # the words around a name, never a name themselves
# A place the model ended one word short: the station, the 东里/西里 of a Beijing neighbourhood, or
# the 区/号楼 after a number belongs to it ("上地" + "地铁站", "马家堡东" + "里", "马家堡" + "东里",
# "和平里七" + "区").
# 路口, 小区 and the like stay outside, as in the annotations.
PLACE_TAIL = re.compile(
    r"地铁站|公交站|火车站|站|(?<=[东西南北])里|[东西南北]里|(?<=[一二三四五六七八九十\d])(号楼|号院|区|号|条|巷)"
)
# The numbered parts after a place's name ("蒲黄榆" + "二里3号楼", "望京西园" + "三区12号楼2单元").
SUBDIVISIONS = re.compile(r"(?:[零一二两三四五六七八九十\d]+(?:号楼|号院|单元|栋|号|区|里|条|巷))+")
DISTRICT = re.compile(r"\w{2,3}区")
# A place the model ran on past a pointing word: "海淀区万柳那边新修" is 海淀区万柳.
PLACE_END = re.compile(r"那边|这边|那儿|这儿|那里|这里|那块|附近|旁边|一带|那$|这$")
# "十五六度": a number in words is no place (the art district 798 is written in digits).
CHINESE_NUMERALS = re.compile(r"[零〇一二两三四五六七八九十百千万几]+")
# The word of degree right before a rating is part of it, as in the annotations ("非常不满意").
DEGREE_BEFORE = re.compile(r"(?:非常|特别|十分|相当|极其|超级|很|太|挺|真|超)$")


def with_degree(entity: dict[str, Any], text: str) -> dict[str, Any]:
    """A rating with the word of degree right before it ("很" + "不满意")."""
    degree = DEGREE_BEFORE.search(text, 0, int(entity["start"]))
    if degree is None:
        return entity
    return {**entity, "start": degree.start(), "value": text[degree.start() : int(entity["end"])]}


def place_ends(entity: dict[str, Any], text: str) -> dict[str, Any]:
    """A place with the station word (or 里, or 区 after a number, or its numbered parts) that
    directly follows it, and without what follows a pointing word or a space inside it ("怀柔区庙城镇
    桥东边" is 怀柔区庙城镇; after a district alone the place goes on: "朝阳区 劲松三区")."""
    start, end = int(entity["start"]), int(entity["end"])
    if entity.get("value") != text[start:end]:
        return entity
    space = re.search(r"\s", text[start:end])
    if space is not None and not DISTRICT.fullmatch(text[start : start + space.start()]):
        end = start + space.start()
        return {**entity, "end": end, "value": text[start:end]}
    pointing = PLACE_END.search(text, start + 2, end)
    tail = PLACE_TAIL.match(text, end) or SUBDIVISIONS.match(text, end)
    if pointing is not None:
        end = pointing.start()
    elif tail is not None:
        end = tail.end()
    return {**entity, "end": end, "value": text[start:end]}


def with_surname(entity: dict[str, Any], text: str) -> dict[str, Any]:
    """A given name the model took without the surname written right before it ("我是白" + "建平",
    "名字是屈" + "红梅"): the surname is part of the name when a name may begin before it; a title
    ("董" + "警官") always takes the surname before it."""
    start, end = int(entity["start"]), int(entity["end"])
    if (
        entity.get("value") != text[start:end]
        or not 1 <= end - start <= 2
        or start == 0
        or text[start - 1] not in SURNAMES
        or not (TITLES.fullmatch(text[start:end]) or NAME_LEAD.search(text, 0, start - 1))
    ):
        return entity
    return {**entity, "start": start - 1, "value": text[start - 1 : end]}


def name_bounds(entity: dict[str, Any], text: str) -> dict[str, Any]:
    """Where a name begins and ends: without the words it was said with ("叫" + "兰小军", "骆静" +
    "吧"), with its surname (see with_surname), and with the given name after a surname the model
    cut short ("上官" + "杰", "柯文" + "桦" before a space or the end)."""
    start, end = int(entity["start"]), int(entity["end"])
    if entity.get("value") != text[start:end]:
        return entity
    before, after = NAME_BEFORE.search(text[start:end]), NAME_AFTER.search(text[start:end])
    if before and end - start - before.end() >= 2:
        start += before.end()
    if after and after.start() >= 2:
        end = int(entity["start"]) + after.start()
    rest = re.match(r"[\u4e00-\u9fff]{1,2}(?=$|[^\u4e00-\u9fff])", text[end:])
    if COMPOUND_SURNAMES.fullmatch(text[start:end]) and rest:
        end += len(rest.group())
    elif (
        end - start == 2
        and text[start] in SURNAMES
        and rest
        and len(rest.group()) == 1
        and rest.group() not in NOT_NAME_END
    ):
        end += 1
    bounded = {**entity, "start": start, "end": end, "value": text[start:end]}
    return with_surname(bounded, text)


def completed(entity: dict[str, Any], text: str) -> dict[str, Any]:
    """Where a rating, a place or a name begins and ends (other entities as they are)."""
    if entity["entity"] == "satisfaction":
        return with_degree(entity, text)
    if entity["entity"] == "address":
        return place_ends(entity, text)
    if entity["entity"] == "person_name" and not after_xing(entity, text):
        return name_bounds(entity, text)
    return entity


def after_xing(entity: dict[str, Any], text: str) -> bool:
    start = int(entity["start"])
    return start > 0 and text[start - 1] == "姓"


def denied_name(entity: dict[str, Any], text: str) -> bool:
    """The wrong name in a correction ("不是凌先生", "我姓张不姓章")."""
    return entity["entity"] == "person_name" and bool(DENIED_NAME.search(text, 0, int(entity["start"])))


def spelling_word(entity: dict[str, Any], text: str) -> bool:
    """The word that spells a character of the name ("委屈的屈", "帆船的帆"), not a name itself."""
    start, end = int(entity["start"]), int(entity["end"])
    said = SPELLED.match(text, end)
    return entity["entity"] == "person_name" and said is not None and said.group(1) in text[start:end]


def lone_character(entity: dict[str, Any], text: str) -> bool:
    """A one-character name not right after 姓 ("孟帆 帆船的帆": the second 帆)."""
    return (
        entity["entity"] == "person_name"
        and int(entity["end"]) - int(entity["start"]) == 1
        and not after_xing(entity, text)
    )


def normalised(entity: dict[str, Any], text: str) -> dict[str, Any] | None:
    """None for a one-character place, a "name" that is only 姓 or 我叫, or a word that is no rating;
    姓X is the surname X."""
    value = entity.get("value")
    if not isinstance(value, str):
        return entity
    if entity["entity"] == "person_name" and (NO_NAME.fullmatch(value) or value in NOT_NAMES):
        return None
    surname = SURNAME_GIVEN.fullmatch(value)
    if surname and entity["entity"] in ("person_name", "address"):
        name = {**entity, "entity": "person_name", "value": surname.group(1)}
        as_written = value == text[int(entity["start"]) : int(entity["end"])]
        return {**name, "start": int(entity["start"]) + 1} if as_written else name  # the surname alone
    if entity["entity"] == "address" and (len(value) < 2 or CHINESE_NUMERALS.fullmatch(value)):
        return None
    if entity["entity"] == "satisfaction":
        rating = satisfaction_value(value)
        return {**entity, "value": rating} if rating else None
    return entity


def counts(pattern: dict[str, Any], text: str, intent: str | None) -> bool:
    """Numbers always; a name matched by its shape only in an answer, or right after 姓."""
    if pattern.get("entity") in PATTERN_ENTITIES or intent in ANSWER_INTENTS:
        return True
    return after_xing(pattern, text)


def clean(entities: list[dict[str, Any]], text: str, intent: str | None) -> list[dict[str, Any]]:
    """Prefer pattern matches for numbers, drop unconfirmed learned numbers and shape-only names
    outside answers, trim spaces, dedupe, join split places, fix where places end, then normalise
    (places, names, 姓X, ratings)."""
    patterns = [e for e in entities if e.get("extractor") == PATTERN_EXTRACTOR and counts(e, text, intent)]
    kept: list[dict[str, Any]] = []
    for entity in entities:
        if entity.get("extractor") == PATTERN_EXTRACTOR:
            if entity not in patterns:
                continue
        elif entity.get("entity") in PATTERN_ENTITIES or any(overlaps(entity, p) for p in patterns):
            continue
        fixed = trimmed(entity, text)
        if fixed is not None and not any(
            k["start"] == fixed["start"] and k["end"] == fixed["end"] and k["entity"] == fixed["entity"]
            for k in kept
        ):
            kept.append(fixed)
    places_joined = joined(sorted(kept, key=lambda e: int(e["start"])), text)
    named = [
        e
        for e in places_joined
        if not lone_character(e, text)
        and not spelling_word(e, text)
        and not denied_name(e, text)
        and not (e["entity"] == "satisfaction" and intent in NO_RATING_INTENTS)
    ]
    found = [e for e in (normalised(completed(e, text), text) for e in named) if e is not None]
    found = [e for e in found if not any(inside(e, other) for other in found)]
    return in_a_letter(found, text) if is_letter(text) else found


# 我叫X, 本人X, 联系人：X, 我是…小区的住户X: the citizen introduces themself (no punctuation between)
SELF_NAMED = re.compile(r"(?:我叫|我是|本人|姓名|联系人|署名|落款)[^，。,.！!？?；;：:\n]{0,24}[:：\s]*$")


def in_a_letter(entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """A letter's entities: names only as the citizen's own, and only its first place."""
    places = [e for e in entities if e["entity"] == "address"]
    return [
        e
        for e in entities
        if (e["entity"] != "person_name" or SELF_NAMED.search(text, 0, int(e["start"])))
        and (e["entity"] != "address" or e is places[0])
    ]


def inside(entity: dict[str, Any], other: dict[str, Any]) -> bool:
    """A name within a longer name (the model's "司马" and "晓光" once 司马晓光 is whole), or the
    surname said before the whole name (我姓司马 叫司马文: 司马 goes)."""
    if entity is other or not entity["entity"] == other["entity"] == "person_name":
        return False
    span, longer = (int(entity["start"]), int(entity["end"])), (int(other["start"]), int(other["end"]))
    value, whole = str(entity["value"]), str(other["value"])
    return (longer[0] <= span[0] and span[1] <= longer[1] and span != longer) or (
        len(value) < len(whole) and whole.startswith(value)
    )
