"""Find and mask citizens' personal data in Chinese free text: phones, ID numbers, home addresses, names.

One place knows what personal data looks like as citizens write it, and everything that lets text out
uses it: the log records of every service (`configure_logging`), Open311's public descriptions, and
retention's anonymisation of old cases.

- Phones in every spelling: ASCII, full-width (１３９…), Chinese numerals (一三九…, 幺/两/洞/拐/勾),
  groups spaced or dashed (139 1234 5678, 139-1234-5678), +86 or 0086 before them; landlines with an
  area code (010-62345678, (010)6234 5678); a bare 7-8 digit local number right after 电话/座机/手机.
  Shown as 139****5678 (landlines 010-****5678).
- ID-card numbers (18 or 15 characters) and other runs of 15-19 digits (bank cards): 110105********1234.
- Home addresses below the compound: building, unit, floor and room numbers (5号楼2单元301室, 3栋2门401,
  12-3-401, B座1203) and house numbers after a road (东四十条甲3号): each number becomes `*`.
- Names: the ones the caller knows (a case's contact name) and those a message introduces (我叫…,
  我是…, 本人…, 联系人…, 姓王名…, …先生/女士/师傅/…): the family name stays, as everywhere in
  Jiesu (王小明 -> 王**); a family name alone (王先生) is already no more than that.

Near misses stay: dates (2024-03-05, 3月5号), prices, times (14:30), bus and subway lines (300路,
3号线), case numbers (2026112700001, 2026-1109-00731), flat layouts (2室1厅), hotline numbers (12345).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from typing import Any, NamedTuple

from common.phone import SEP, TEXT_DIGITS, number_spans
from common.phone import mask_phone as mask_phone

PERSONAL_KEYS = frozenset(
    {"contact_name", "contact_phone", "phone", "address", "text", "description", "citizen_text"}
)

# Address numbers: digits and the plain numerals; 两, 幺, 洞, 拐 and 勾 are words here (两栋楼, 拐角).
ADDRESS_DIGITS = str.maketrans("０１２３４５６７８９〇零一二三四五六七八九", "01234567890" + "0123456789")

# ID cards (18 characters, or 15 for old ones) and bank cards (16-19 digits), whole or in their usual
# groups: 6-8-4, and fours for a card (cards start with 3-6; a list of years with 1 or 2). A case
# number has 13 digits and is never one.
ID_CARD = rf"\d{{14,18}}[\dXx]|\d{{6}}{SEP}\d{{8}}{SEP}\d{{3}}[\dXx]"
BANK_CARD = rf"[3-6]\d{{3}}(?:{SEP}\d{{4}}){{3}}(?:{SEP}?\d{{1,3}})?"
LONG_NUMBER = re.compile(rf"(?<![\dA-Za-z])(?:{ID_CARD}|{BANK_CARD})(?![\dA-Za-z])")

NUM = r"(?:[A-Za-z甲乙丙丁]?[0-9十百]{1,5}[A-Za-z]?)"
BUILDING = r"(?:号楼|号院|栋|幢|座)"
ROOM = r"(?:室(?![0-9一二两三四]?厅)|房间|户)"
# A bare number after a building or unit is a room unless a count follows (3号楼 3天没水, but 401天天).
UNIT_WORDS = "路元块角年月日号线个次分秒点时:：人岁斤米公里位辆条台趟站平万吨"
STOP = rf"(?![0-9十百{UNIT_WORDS}]|天(?!天)|\s[{UNIT_WORDS}天])"
PART = rf"(?:{NUM}(?:{BUILDING}|单元|门|层|楼|{ROOM}|号(?![线口站]))|{NUM}{STOP})"
HOME = re.compile(
    rf"(?<![0-9A-Za-z月])(?:{NUM}{BUILDING}|[A-Za-z]座|{NUM}单元|[0-9]{{3,5}}(?:室(?![0-9一二两三四]?厅)|房间))"
    rf"(?:{SEP}?{PART})*"
    rf"|(?<=[路街道巷条同里村园院弄坊庄营屯厦城苑府湾寺桥区])(?<![街地小社城景校]区)"
    rf"{NUM}号(?![线口门站航地])(?:{SEP}?{PART})*"
    rf"|门牌号?[是为:：]?\s*{NUM}号?"
    r"|(?<![0-9\-])[0-9]{1,3}-[0-9]{1,2}-[0-9]{2,4}(?![0-9\-])"
)
COUNTED = re.compile(r"[一二两三四五六七八九十]+[栋幢座](?:[^单门室户号\d０-９]*)$")
NUMBER_IN_HOME = re.compile(r"[A-Za-z甲乙丙丁]?[0-9十百]+[A-Za-z]?|[A-Za-z](?=座)")

# Common Chinese family names, compound ones first. Left out: those that are mostly function words
# in running text (和, 于, 与, 及, 向, 从, 把, 被, 让, 给, 对, 在, 是, 有, 就, 也, 都, 还, 要, 来, 第).
COMPOUND_SURNAMES = "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤".split()
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔汤庞樊兰殷施洪翟安颜倪牛温芦季俞章鲁葛伍申尤毕聂柴焦柳邢骆岳齐梅庄辛管"
    "祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位霍翁隋植甘景薄单包司"
    "柏宁柯阮桂闵解强丛华车冉房边辜吉饶刁瞿戚丘古米池滕晋苑邬臧畅宫嵇缪晏"
)
# Words that start with a family name and follow 我是/我叫 or stand before a title more often than a
# name does (我是马上要搬走的, 项目经理).
NOT_NAMES = frozenset(
    """马上 方便 白天 时候 常常 万一 高兴 周边 周围 周末 全部 全家 全都 钱包 房子 房东 房主 路过 路人
    路口 路灯 路面 司机 车主 车位 车辆 江边 金额 石头 田地 任何 温度 龙头 黄色 白色 红色 蓝色 毛病
    单位 单元 成都 成了 关于 关门 关系 关注 安全 安装 华为 宁愿 齐全 段时 包括 包子 管理 管道 施工
    房屋 房间 夏天 秦皇 景区 高层 高速 高楼 史上 章程 申请 查询 查看 解决 强烈 华北 程序 尤其 甘心
    康复 游客 游乐 卫生 祝您 庄园 路段 常年 范围 曾经 孔雀 苗木 梅花 柳树 邱家 向日 柴油 毕业 严重
    项目 任课 高中 高级 高三 高二 高一 班主 宋庄 张家 李家 王家 刘家 陈家 杨家 赵家 黄家 周家 吴家
    孙家 马家 朱家 胡家 郭家 高家""".split()
)
GIVEN_STOPS = set(
    "的了在是住电手和跟给也就都还又说想要从到去来这那我你他她们啊呀吧呢哈嘛哦嗯今现刚家联反投举打找让"
    "被把对向先女师老，。、！？,.!? \t\n：:；;（）()0123456789号楼栋单室门区路街村镇乡县市省"
)
PLACE_ENDS = set("区路街村镇乡县市省山桥门园湾庄营屯河湖里口店楼院府所局委队站场厂司馆校寺坊城")
NAME_CUE = re.compile(r"(?:我叫|名叫|名字叫|名字是|叫做|我是|本人|姓名|联系人|联系了?|致电)[是为:：\s]*")
SURNAME_FIRST = re.compile(r"姓([\u4e00-\u9fff])[，,、\s]*(?:名|叫)[是:：\s]*\1?")
TITLES = r"(?:先生|女士|小姐|师傅|老师|阿姨|大爷|大妈|大姐|大哥|同志|经理|主任)"
TITLE = re.compile(TITLES)
TITLED = re.compile(rf"(?=([\u4e00-\u9fff]{{2,4}}?){TITLES})")


class Span(NamedTuple):
    start: int
    end: int
    mask: str


def mask_text(text: str, *, names: Iterable[str | None] = ()) -> str:
    """Mask every phone, ID number, home address number and name in free text (see the module)."""
    if not text:
        return text
    out, last = [], 0
    for span in _resolve(personal_spans(text, names=names)):
        out.append(text[last : span.start])
        out.append(span.mask)
        last = span.end
    out.append(text[last:])
    return "".join(out)


def personal_spans(text: str, *, names: Iterable[str | None] = ()) -> list[Span]:
    """Every piece of personal data in `text` with the mask that replaces it (spans may overlap)."""
    return [*_number_spans(text), *_home_spans(text), *_name_spans(text, names)]


def coarse_place(address: str, *, names: Iterable[str | None] = ()) -> str:
    """The part of an address before its house, building, unit or room number.

    望京西园三区12号楼3单元501 -> 望京西园三区; 5号楼2单元301室 -> "" (nothing public is left).
    """
    spans = personal_spans(address, names=names)
    cut = min((s.start for s in spans), default=len(address))
    return re.sub(r"[\s\dA-Za-z０-９#＃\-－—,，、。:：的]+$", "", address[:cut]).strip()


def mask_name(name: str) -> str:
    """Keep the family name only: 张三 -> 张*, 欧阳娜娜 -> 欧阳**."""
    name = name.strip()
    family = next((c for c in COMPOUND_SURNAMES if name.startswith(c) and len(name) > len(c)), name[:1])
    return family + "*" * max(1, len(name) - len(family)) if name else ""


def redact(value: Any) -> str:
    """Replace a personal field's value by its length only."""
    return f"<{len(str(value))} chars>"


def _number_spans(text: str) -> Iterable[Span]:
    digits = text.translate(TEXT_DIGITS)
    for match in LONG_NUMBER.finditer(digits):
        plain = re.sub(r"[^\dXx]", "", match.group(0))
        shown = f"{plain[:6]}********{plain[-4:]}" if len(plain) == 18 else f"****{plain[-4:]}"
        yield Span(match.start(), match.end(), shown)
    for found in number_spans(text):
        yield Span(*found)


def _home_spans(text: str) -> Iterable[Span]:
    plain = text.translate(ADDRESS_DIGITS)
    for match in HOME.finditer(plain):
        if COUNTED.match(text, match.start(), match.end()):
            continue  # 一栋楼房, 三座桥: a count, not a building's number
        yield Span(match.start(), match.end(), NUMBER_IN_HOME.sub("*", match.group(0)))


def _name_spans(text: str, names: Iterable[str | None]) -> Iterable[Span]:
    for name in {n for n in names if n}:
        for form in {name.strip(), re.sub(r"\s+", "", name)}:
            if len(form) >= 2:
                for match in re.finditer(re.escape(form), text):
                    yield Span(match.start(), match.end(), mask_name(re.sub(r"\s+", "", form)))
    for cue in (*NAME_CUE.finditer(text), *SURNAME_FIRST.finditer(text)):
        surname = cue.group(1) if cue.re is SURNAME_FIRST else ""
        span = _name_at(text, cue.end(), surname=surname)
        if span and (not surname or surname in SURNAMES):
            yield span
    for match in TITLED.finditer(text):
        start = match.start(1)
        span = _name_at(text[: match.end(1)], start)
        if span and span.end == match.end(1):
            yield span


def _name_at(text: str, start: int, *, surname: str = "") -> Span | None:
    """The given name of a name at `start` (its family name first unless `surname` was said apart)."""
    family = surname
    if not family:
        family = next((c for c in COMPOUND_SURNAMES if text.startswith(c, start)), "")
        if not family and text[start : start + 1] in SURNAMES:
            family = text[start]
        if not family:
            return None
        start += len(family)
    given = ""
    for at in range(start, min(start + 2, len(text))):
        if text[at] in GIVEN_STOPS or not "\u4e00" <= text[at] <= "\u9fff" or TITLE.match(text, at):
            break
        given += text[at]
    # 我是石景山的: a place, not 石 景山
    while given and (
        given[-1] in PLACE_ENDS or text[start + len(given) : start + len(given) + 1] in PLACE_ENDS
    ):
        given = given[:-1]
    if not given or (not surname and (family + given)[:2] in NOT_NAMES):
        return None
    return Span(start, start + len(given), "*" * len(given))


def _resolve(spans: list[Span]) -> list[Span]:
    """Spans in order, overlaps merged into the earliest, longest one."""
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if chosen and span.start < chosen[-1].end:
            if span.end > chosen[-1].end:
                last = chosen[-1]
                chosen[-1] = Span(last.start, span.end, last.mask + "*")
            continue
        chosen.append(span)
    return chosen


def mask_record(record: logging.LogRecord) -> None:
    """Mask a log record's message, arguments, traceback and stack in place (idempotent)."""
    if getattr(record, "masked", False):
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format: keep both, masked
        message = f"{record.msg} {record.args}"
    record.msg, record.args = mask_text(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    record.masked = True


class PersonalDataFilter(logging.Filter):
    """Mask personal data in every record's message, arguments, traceback and personal extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        for key in PERSONAL_KEYS & record.__dict__.keys():
            setattr(record, key, redact(getattr(record, key)))
        return True


def _masked_record_factory(factory: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        mask_record(record)
        return record

    make.masks = True  # type: ignore[attr-defined]
    return make


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr with personal data masked in every record, whichever handler writes it."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    for handler in root.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
    # Handlers that libraries add later (Sanic's, uvicorn's) get masked records too: records are
    # masked when they are made, tracebacks included.
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "masks", False):
        logging.setLogRecordFactory(_masked_record_factory(factory))
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Libraries that log what passes through them (SQL parameters, WebSocket frames, Telegram updates,
    # trackers) at DEBUG: a name or an address there cannot be recognised and masked, so they never
    # log below INFO, whatever LOG_LEVEL says. Our own code logs masked values at DEBUG.
    for name in ("aiosqlite", "websockets", "telegram", "rasa_sdk", "hpack", "multipart"):
        library = logging.getLogger(name)
        library.setLevel(max(logging.INFO, root.level, library.level))
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)  # at INFO it logs SQL with its parameters
