"""Masking personal data in Chinese free text: every spelling of phones, ID numbers, home addresses and
names is masked, and the numbers that look like them but are not (dates, prices, lines, case numbers,
times) stay."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError

from common.database import make_engine
from common.masking import PersonalDataFilter, coarse_place, configure_logging, mask_text
from connectors.app import make_async_engine
from tests.aio import run

TWICE = [{"phone": "13912345678"}, {"phone": "13912345678"}]

MASKED = [
    # mobiles, however they are written
    ("电话13912345678", "电话139****5678"),
    ("手机号 139 1234 5678 有事打", "手机号 139****5678 有事打"),
    ("139-1234-5678", "139****5678"),
    ("139—1234—5678找我", "139****5678找我"),
    ("+86 139 1234 5678", "139****5678"),
    ("＋86-13912345678", "139****5678"),
    ("0086 13912345678", "139****5678"),
    ("手机１３９１２３４５６７８", "手机139****5678"),
    ("１３９ １２３４ ５６７８", "139****5678"),
    ("我电话一三九一二三四五六七八", "我电话139****5678"),
    ("幺三九 幺二三四 五六七八", "139****5678"),
    ("一三九两两洞洞五六七八", "139****5678"),
    ("号码是幺八六洞洞幺拐勾三二一呢", "号码是186****9321呢"),
    ("壹叁玖壹贰叁肆伍陆柒捌", "139****5678"),
    ("139１２３4五六七八", "139****5678"),
    ("两个号13912345678 13800138000都行", "两个号139****5678 138****8000都行"),
    ("13912345678，13800138000", "139****5678，138****8000"),
    ("tel:13912345678", "tel:139****5678"),
    # landlines and local numbers
    ("座机010-62345678", "座机010-****5678"),
    ("（010）6234 5678", "010-****5678"),
    ("01062345678", "010-****5678"),
    ("打0311-8523456也行", "打0311-****3456也行"),
    ("家里电话62345678", "家里电话****5678"),
    ("座机是 6234-5678", "座机是 ****5678"),
    # ID-card and bank card numbers
    ("身份证110105199001011234", "身份证110105********1234"),
    ("身份证号11010519900101123X", "身份证号110105********123X"),
    ("110105 19900101 1234", "110105********1234"),
    ("卡号6222 0202 0000 1234 567", "卡号****4567"),
    # home addresses: building, unit, floor, room, house numbers
    ("住5号楼2单元301室", "住*号楼*单元*室"),
    ("望京西园三区12号楼3单元501", "望京西园三区*号楼*单元*"),
    ("3栋2门401", "*栋*门*"),
    ("我家12-3-401", "我家*-*-*"),
    ("B座1203的业主", "*座*的业主"),
    ("三号楼二单元三零一", "*号楼*单元*"),
    ("１２号楼３单元", "*号楼*单元"),
    ("3号楼3-401", "*号楼*-*"),
    ("12号院3号楼2层", "*号院*号楼*层"),
    ("东四十条甲3号", "东四十条*号"),
    ("中关村大街27号院门口", "中关村大街*号院门口"),
    ("802室漏水", "*室漏水"),
    ("三栋1503的业主", "*栋*的业主"),
    ("楼上3栋2门401天天装修", "楼上*栋*门*天天装修"),
    ("5号楼停水3天了", "*号楼停水3天了"),
    ("七栋二单元", "*栋*单元"),
    ("门牌号：15", "门牌号：*"),
    # names: introduced by a cue or a title; the family name stays
    ("我叫王小明", "我叫王**"),
    ("你好我是李四，住这个小区", "你好我是李*，住这个小区"),
    ("本人欧阳晓明电话13912345678", "本人欧阳**电话139****5678"),
    ("联系人：赵丽颖", "联系人：赵**"),
    ("已电话联系王小明本人", "已电话联系王**本人"),
    ("致电孙丽，说明天来修", "致电孙*，说明天来修"),
    ("姓名 孙悟空", "姓名 孙**"),
    ("我姓王，叫王小明", "我姓王，叫王**"),
    ("免贵姓张名建国", "免贵姓张名**"),
    ("物业的刘建国经理不管", "物业的刘**经理不管"),
    ("找了张伟师傅", "找了张*师傅"),
    ("楼上陈淑芬女士家", "楼上陈**女士家"),
    ("我叫诸葛亮", "我叫诸葛*"),
]

KEPT = [
    "2024年3月5日下午",
    "2024-03-05 14:30",
    "3月5号楼下停水了",
    "每月5号交物业费",
    "一共1200元，每平米35.5元",
    "坐300路公交到站",
    "地铁3号线2号口出来",
    "工单号2026112700001",
    "编号2026-1109-00731",
    "下午14:30到15:00",
    "两室一厅，2室1厅的房子",
    "打了12345热线",
    "拨110报警了",
    "我是业主",
    "我是这个小区的住户",
    "我是石景山的",
    "我是马上要搬走的人",
    "我叫了物业好几次",
    "王先生说明天来修",
    "关于张先生反映的问题",
    "小区有1200户居民",
    "两栋楼之间的空地",
    "一楼大厅",
    "五环外",
    "三里屯太古里",
    "建国门外大街",
    "温度18度",
    "等了3个小时",
    "13:30-15:00之间",
    "快递单号SF1234567890",
    "新建了一栋四层办公楼",
    "盖了一座 110 平方米的房子",
    "一座城市",
    "联系人谢小姐",
    "项目经理不在",
    "2010 2011 2012 2013年都交了",
    "1971.12到1972.1",
    "陈老先生",
    "隐姓埋名",
    "已联系物业",
    "联系了好几次",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked_however_it_is_written(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_numbers_and_words_that_only_look_personal_stay(text: str) -> None:
    assert mask_text(text) == text


def test_known_names_are_masked_with_or_without_their_space() -> None:
    text = "张三反映，张 三家门口的路灯不亮"
    assert mask_text(text, names=["张 三", None]) == "张*反映，张*家门口的路灯不亮"
    assert mask_text("王小明说的", names=["王小明"]) == "王**说的"
    assert mask_text("欧阳晓明家", names=["欧阳晓明"]) == "欧阳**家"


def test_masking_twice_changes_nothing_more() -> None:
    for text, _ in MASKED:
        once = mask_text(text)
        assert mask_text(once) == once, text


def test_coarse_place_stops_before_the_building() -> None:
    assert coarse_place("望京西园三区12号楼3单元501") == "望京西园三区"
    assert coarse_place("中关村大街27号院") == "中关村大街"
    assert coarse_place("5号楼2单元301室") == ""
    assert coarse_place("和平里东街，靠近地坛公园") == "和平里东街，靠近地坛公园"
    assert coarse_place("望京西园3区 12-3-401") == "望京西园3区"


def test_log_records_are_masked_tracebacks_included() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataFilter())
    log = logging.getLogger("tests.masking")
    log.addHandler(handler)
    try:
        try:
            raise ValueError("电话一三九一二三四五六七八 住5号楼2单元301室 我叫王小明")
        except ValueError:
            log.exception("could not file %s", "13912345678")
        log.warning("extra", extra={"contact_name": "王小明"})
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert "Traceback" in written and "139****5678" in written
    for secret in ("一三九一二三四五六七八", "13912345678", "5号楼2单元301室", "王小明"):
        assert secret not in written, secret


def test_records_are_masked_for_handlers_added_after_configuration() -> None:
    factory = logging.getLogRecordFactory()
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        configure_logging("INFO")
        stream = io.StringIO()
        late = logging.StreamHandler(stream)  # as Sanic and uvicorn add their own
        logging.getLogger("tests.late").addHandler(late)
        try:
            raise RuntimeError("客户 欧阳晓明 １３９１２３４５６７８")
        except RuntimeError:
            logging.getLogger("tests.late").error("failed", exc_info=True)
        logging.getLogger("tests.late").removeHandler(late)
    finally:
        logging.setLogRecordFactory(factory)
        root.setLevel(level)
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
            handler.filters = [f for f in handler.filters if not isinstance(f, PersonalDataFilter)]
    written = stream.getvalue()
    assert "RuntimeError" in written and "139****5678" in written
    assert "１３９１２３４５６７８" not in written


def test_database_errors_carry_no_bound_parameters(tmp_path: Path) -> None:
    """An IntegrityError's message would carry the row's values into a logged traceback."""
    engine = make_engine(f"sqlite:///{tmp_path / 'backend.db'}")
    with engine.begin() as connection:
        connection.execute(sql("CREATE TABLE t (phone TEXT UNIQUE)"))
    with pytest.raises(IntegrityError) as error, engine.begin() as connection:
        connection.execute(sql("INSERT INTO t VALUES (:phone)"), TWICE)
    assert "parameters" in str(error.value) and "13912345678" not in str(error.value)
    engine.dispose()

    async def gateway() -> str:
        engine = make_async_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
        try:
            async with engine.begin() as connection:
                await connection.execute(sql("CREATE TABLE t (phone TEXT UNIQUE)"))
            async with engine.begin() as connection:
                await connection.execute(sql("INSERT INTO t VALUES (:phone)"), TWICE)
        except IntegrityError as failure:
            return str(failure)
        finally:
            await engine.dispose()
        return "no error"

    message = run(gateway())
    assert "parameters" in message and "13912345678" not in message
