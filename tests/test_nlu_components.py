"""Our NLU entity clean-up (bot/nlu/entities.py), and the component that runs it inside Rasa."""

from __future__ import annotations

import re

import yaml

from bot.nlu.entities import COMPOUND_SURNAMES, SURNAMES, clean
from bot.shared.rating_words import satisfaction_value
from ops.stack import ROOT
from tests.rasa_env import in_rasa_env

TEXT = "我叫林晓 电话 138 0013 8000 工单2026112700001"


def entity(name: str, start: int, end: int, extractor: str = "DIETClassifier") -> dict[str, object]:
    return {"entity": name, "start": start, "end": end, "value": TEXT[start:end], "extractor": extractor}


def spot(name: str, piece: str, text: str, extractor: str = "DIETClassifier") -> dict[str, object]:
    """The entity `name` on the first occurrence of `piece` in `text`."""
    start = text.index(piece)
    return {"entity": name, "start": start, "end": start + len(piece), "value": piece, "extractor": extractor}


def test_numbers_come_from_the_patterns_and_spans_are_trimmed() -> None:
    phone = TEXT.index("138")
    found = clean(
        [
            entity("person_name", 2, 4),
            entity("phone_number", 2, phone + 13),  # DIET swallowed the name
            entity("phone_number", phone, phone + 13, "RegexEntityExtractor"),
            entity("case_number", TEXT.index("2026") - 1, TEXT.index("2026") + 13),  # learned, unconfirmed
            entity("address", phone - 1, phone + 2),  # overlaps a pattern match
        ],
        TEXT,
        "report_issue",
    )
    assert [(e["entity"], e["value"]) for e in found] == [
        ("person_name", "林晓"),
        ("phone_number", "138 0013 8000"),
    ]
    padded = clean(
        [{"entity": "address", "start": 0, "end": 5, "value": " 朝阳区 ", "extractor": "DIETClassifier"}],
        " 朝阳区 ",
        "inform",
    )
    assert (padded[0]["start"], padded[0]["end"], padded[0]["value"]) == (1, 4, "朝阳区")


def test_a_name_by_its_shape_alone_counts_only_in_an_answer() -> None:
    def by_shape(text: str) -> dict[str, object]:
        return spot("person_name", text, text, "RegexEntityExtractor")

    assert [e["value"] for e in clean([by_shape("夏天")], "夏天", "inform")] == ["夏天"]
    assert [e["value"] for e in clean([by_shape("夏天")], "夏天", "correct_info")] == ["夏天"]
    assert clean([by_shape("谢谢")], "谢谢", "thank") == []
    assert clean([by_shape("查进度")], "查进度", "check_status") == []
    # a learned name is not dropped along with a shape-only one that does not count
    learned = {**by_shape("查进度"), "extractor": "DIETClassifier"}
    assert clean([by_shape("查进度"), learned], "查进度", "check_status") == [learned]


def test_a_place_split_in_pieces_is_joined_again() -> None:
    text = "路灯坏了 在朝阳区望京西园二区12号楼 电话13800138000 海淀区也有"

    split = [spot("address", piece, text) for piece in ("朝阳区", "望京西园", "12号楼", "海淀区")]
    assert [e["value"] for e in clean(split, text, "report_issue")] == ["朝阳区望京西园二区12号楼", "海淀区"]
    # a space, punctuation or a longer stretch keeps places apart
    two = "朝阳区，海淀区"
    apart = [spot("address", "朝阳区", two), spot("address", "海淀区", two)]
    assert [e["value"] for e in clean(apart, two, "inform")] == ["朝阳区", "海淀区"]


def test_one_character_places_are_dropped_and_a_surname_is_kept_without_its_prefix() -> None:
    text = "落户口需要什么 姓马"
    found = clean(
        [spot("address", "口", text), spot("person_name", "姓马", text)],
        text,
        "inform",
    )
    # the span is the surname alone, as the annotations write it (姓[马])
    assert [(e["entity"], e["value"], e["start"]) for e in found] == [("person_name", "马", text.index("马"))]


def name_patterns() -> str:
    """The training data's name patterns (bot/data/nlu/regex.yml), one a line."""
    data = yaml.safe_load((ROOT / "bot/data/nlu/regex.yml").read_text(encoding="utf-8"))
    return str(next(item for item in data["nlu"] if item.get("regex") == "person_name")["examples"])


def surname_pattern() -> re.Pattern[str]:
    """The training data's pattern for the surname after 姓."""
    after_xing = [line[2:] for line in name_patterns().splitlines() if line.startswith("- (?<=姓)")]
    assert len(after_xing) == 1
    return re.compile(after_xing[0])


def test_the_surname_pattern_takes_two_character_surnames_whole() -> None:
    pattern = surname_pattern()
    said = {
        "我姓欧阳": "欧阳",
        "免贵姓司马 电话13800138000": "司马",
        "姓王": "王",
        "我姓诸葛 诸葛亮的诸葛": "诸葛",
    }
    for text, surname in said.items():
        match = pattern.search(text)
        assert match is not None and match.group() == surname, text
    # the pattern wins over the model's shorter guess
    text = "我姓欧阳"
    found = clean(
        [spot("person_name", "欧", text), spot("person_name", "欧阳", text, "RegexEntityExtractor")],
        text,
        "inform",
    )
    assert [e["value"] for e in found] == ["欧阳"]


def test_a_number_in_words_is_no_place() -> None:
    text = "屋里才十五六度 在798那边"
    found = clean([spot("address", "十五六", text), spot("address", "798", text)], text, "report_issue")
    assert [e["value"] for e in found] == ["798"]


def test_ratings_become_the_three_values_and_other_words_are_no_rating() -> None:
    text = "很不满意 还行 态度挺好的 非常满意 basically_satisfied"
    found = clean(
        [
            spot("satisfaction", w, text)
            for w in ("很不满意", "还行", "挺", "非常满意", "basically_satisfied")
        ],
        text,
        "rate",
    )
    assert [e["value"] for e in found] == [
        "dissatisfied",
        "basically_satisfied",
        "satisfied",
        "basically_satisfied",
    ]


def test_a_negation_before_satisfied_is_dissatisfied() -> None:
    said = {
        "不太满意": "dissatisfied",
        "不是很满意": "dissatisfied",
        "不怎么满意": "dissatisfied",
        "太次了": "dissatisfied",
        "很失望": "dissatisfied",
        "差不多吧": "basically_satisfied",  # 差 here is no complaint
        "说得过去": "basically_satisfied",
        "勉强满意": "basically_satisfied",
        "挺好": "satisfied",
        "给个一星": "dissatisfied",  # stars and marks, as in an app's rating
        "零分": "dissatisfied",
        "不及格": "dissatisfied",
        "三颗星吧": "basically_satisfied",
        "及格": "basically_satisfied",
        "六十分": "basically_satisfied",
        "五星": "satisfied",
        "满分": "satisfied",
        "打100分": "satisfied",
        "60分吧": "basically_satisfied",
    }
    for rating, value in said.items():
        text = f"{rating} 师傅来过了"
        found = clean([spot("satisfaction", rating, text)], text, "rate")
        assert [e["value"] for e in found] == [value], rating
    assert satisfaction_value("等了一星期才来") is None  # 一星期 is a week, not one star


def test_a_rating_keeps_the_word_of_degree_before_it() -> None:
    text = "很不满意 真满意 一般"
    zhen = text.index("真")  # the model found 满意 without its 真
    said = {
        "entity": "satisfaction",
        "start": zhen + 1,
        "end": zhen + 3,
        "value": "满意",
        "extractor": "DIETClassifier",
    }
    found = clean(
        [spot("satisfaction", "不满意", text), said, spot("satisfaction", "一般", text)], text, "rate"
    )
    assert [(text[e["start"] : e["end"]], e["value"]) for e in found] == [
        ("很不满意", "dissatisfied"),
        ("真满意", "satisfied"),
        ("一般", "basically_satisfied"),
    ]


def test_a_surname_after_xing_counts_in_any_message_whatever_the_model_called_it() -> None:
    text = "电梯坏了 大兴区兴华园 我姓周"
    model_said = spot("address", "姓周", text)
    found = clean([model_said, spot("person_name", "周", text, "RegexEntityExtractor")], text, "report_issue")
    assert [(e["entity"], e["value"]) for e in found] == [("person_name", "周")]
    alone = clean([model_said], text, "report_issue")
    assert [(e["entity"], e["value"]) for e in alone] == [("person_name", "周")]


def test_the_component_loads_in_the_rasa_environment() -> None:
    name = in_rasa_env(
        "import json; from bot.nlu.components import NumbersByPattern as C; print(json.dumps(C.__name__))"
    )
    assert name == "NumbersByPattern"


def test_xing_or_wo_jiao_alone_is_no_name() -> None:
    text = "电梯坏了 大兴区兴华园 我姓周"
    found = clean(
        [spot("person_name", "姓", text), spot("person_name", "周", text, "RegexEntityExtractor")],
        text,
        "report_issue",
    )
    assert [(e["entity"], e["value"]) for e in found] == [("person_name", "周")]
    assert clean([spot("person_name", "我叫", "我叫")], "我叫", "inform") == []


def test_a_place_ends_where_its_name_ends() -> None:
    text = (
        "建议在海淀区上地地铁站附近划车位 丰台区马家堡东里 和平里七区 新街口路口 海淀区万柳那边新修的路"
        + " 西二旗地铁站那"
    )
    said = [
        spot("address", p, text)
        for p in (
            "海淀区上地",
            "丰台区马家堡东",
            "和平里七",
            "新街口",
            "海淀区万柳那边新修",
            "西二旗地铁站那",
        )
    ]
    assert [e["value"] for e in clean(said, text, "suggest")] == [
        "海淀区上地地铁站",
        "丰台区马家堡东里",
        "和平里七区",
        "新街口",  # 路口 is not part of the name
        "海淀区万柳",
        "西二旗地铁站",
    ]


def test_one_character_is_a_name_only_right_after_xing() -> None:
    text = "名字是孟帆 帆船的帆 我姓周"
    second = text.index("帆", text.index("船"))
    said = [
        spot("person_name", "孟帆", text),
        {
            "entity": "person_name",
            "start": second,
            "end": second + 1,
            "value": "帆",
            "extractor": "DIETClassifier",
        },
        spot("person_name", "周", text, "RegexEntityExtractor"),
    ]
    assert [e["value"] for e in clean(said, text, "inform")] == ["孟帆", "周"]


def test_a_question_carries_no_rating() -> None:
    text = "问一下暖气费一般几月份交"
    said = [spot("satisfaction", "一般", text)]
    assert clean(said, text, "ask_question") == []
    assert [e["value"] for e in clean(said, text, "rate")] == ["basically_satisfied"]


def test_a_given_name_gets_the_surname_written_right_before_it() -> None:
    said = {
        "我是白建平": ("建平", "白建平"),
        "名字是屈红梅 委屈的屈": ("红梅", "屈红梅"),
        "西城区展览路那个公厕 水龙头关不上 我是白建平": ("建平", "白建平"),
        "邹红 18600186321": ("邹红", "邹红"),  # whole already
        "我叫建平": ("建平", "建平"),  # 叫 is no surname
        "找一下小赵红梅": ("红梅", "红梅"),  # 小 before the surname: no name begins there
    }
    for text, (piece, name) in said.items():
        found = clean([spot("person_name", piece, text)], text, "inform")
        assert [(e["value"], text[e["start"] : e["end"]]) for e in found] == [(name, name)], text


def test_the_word_that_spells_a_character_is_no_name() -> None:
    text = "名字是屈红梅 委屈的屈"
    found = clean([spot("person_name", "委屈", text), spot("person_name", "屈红梅", text)], text, "inform")
    assert [e["value"] for e in found] == ["屈红梅"]
    text = "我叫孟帆 帆船的帆"
    found = clean([spot("person_name", "孟帆", text), spot("person_name", "帆船", text)], text, "inform")
    assert [e["value"] for e in found] == ["孟帆"]
    # a name followed by 的 and another word stays a name
    text = "王芳的电话是13800138000"
    assert [e["value"] for e in clean([spot("person_name", "王芳", text)], text, "inform")] == ["王芳"]


def test_where_a_name_begins_and_ends() -> None:
    said = {
        "我叫司马晓光": (["司马", "晓光"], "司马晓光"),
        "上官杰 号码18801063394": (["上官"], "上官杰"),
        "名字写错了 柯文桦 木字旁的桦": (["柯文"], "柯文桦"),
        "我叫顾雪哈": (["顾雪哈"], "顾雪"),
        "称呼我范女士吧": (["我范女士"], "范女士"),
        "建议搬到线上 我叫兰小军": (["叫兰小军"], "兰小军"),
        "给大峪派出所的段警官点赞": (["警官"], "段警官"),
        "王芳说 电话13800138000": (["王芳"], "王芳"),  # 说 ends no name
        "我姓司马 叫司马文": (["司马", "司马文"], "司马文"),  # the surname, then the whole name
        "姓张 张伟": (["张", "张伟"], "张伟"),
        "你就记小孟": (["记小孟"], "小孟"),
    }
    for text, (pieces, name) in said.items():
        found = clean([spot("person_name", piece, text) for piece in pieces], text, "inform")
        assert [e["value"] for e in found] == [name], text
        assert text[found[0]["start"] : found[0]["end"]] == name


def test_the_wrong_name_in_a_correction_is_no_name() -> None:
    for text, wrong, right in (
        ("不是甄先生 是甄女士", "甄先生", "甄女士"),
        ("我姓张不姓章", "章", "张"),
        ("名字写成了公孙里 是公孙丽", "公孙里", "公孙丽"),
    ):
        said = [spot("person_name", wrong, text), spot("person_name", right, text)]
        assert [e["value"] for e in clean(said, text, "correct_info")] == [right], text


def test_a_title_or_pronoun_alone_is_no_name() -> None:
    for text, piece in (("满意 师傅干活挺利索", "师傅"), ("有家黑诊所 没有任何资质", "任何")):
        assert clean([spot("person_name", piece, text)], text, "rate") == [], text
    text = "赵师傅挺好"
    assert [e["value"] for e in clean([spot("person_name", "赵师傅", text)], text, "inform")] == ["赵师傅"]


def test_a_place_keeps_its_numbered_parts() -> None:
    said = [  # text, the model's place, the place after the clean-up
        ("暖气不热 丰台区蒲黄榆二里3号楼 家里才14度", "丰台区蒲黄榆", "丰台区蒲黄榆二里3号楼"),
        ("朝阳区望京西园三区12号楼2单元楼道灯坏了 三天了", "朝阳区望京西园", "朝阳区望京西园三区12号楼2单元"),
        ("楼道灯坏了 丰台区马家堡东里 电话13800138000", "丰台区马家堡", "丰台区马家堡东里"),
        ("怀柔区庙城镇 桥东边有个坑", "怀柔区庙城镇 桥", "怀柔区庙城镇"),  # a space ends the place
        ("朝阳区 劲松三区", "朝阳区 劲松三区", "朝阳区 劲松三区"),  # except after a district alone
        ("海淀区万柳 3号楼", "海淀区万柳", "海淀区万柳"),
    ]
    for text, piece, place in said:
        assert [e["value"] for e in clean([spot("address", piece, text)], text, "report_issue")] == [place]


def test_the_clean_up_knows_the_surnames_of_the_name_patterns() -> None:
    listed = re.findall(r"^- \^?(?:\(\?<=姓\))?\(([^)]*)\)", name_patterns(), re.M)
    assert len(listed) == 3
    for names in listed:
        assert {name for name in names.split("|") if len(name) == 1} == SURNAMES
    # the two-character ones, listed after 姓, are the clean-up's too
    compound = {name for name in surname_pattern().pattern[7:-1].split("|") if len(name) == 2}
    assert compound == set(COMPOUND_SURNAMES.pattern.split("|"))
