"""The real-data loader: words joined back, masked places replaced by Beijing places, the halves, the skip.

Every text here is written for the test; no real message is used.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.reference.gazetteer import gazetteer
from bench import real_data
from bench.real_data import (
    RealDataMissing,
    beijing_place,
    label_departments,
    load_messages,
    require_real_data,
    restore,
)

LABELS = """\
城乡建设: [housing, planning, water]
环境保护: [ecology_environment, water]
strict:
  城乡建设: [housing]
  环境保护: [ecology_environment]
"""


def write_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / real_data.DEV_FILE).write_text(
        "row,label,text_segmented\n"
        "2,城乡建设,A3 区 小区 路灯 坏 三个 月\n"
        "3,环境保护,K 市 K9 县 工厂 晚上 排 黑烟\n"
        "6,环境保护,C4 市 河道 发臭 _x000D_ 2019 年 5 月 反映 过\n",
        encoding="utf-8",
    )
    (folder / real_data.LABELS_FILE).write_text(LABELS, encoding="utf-8")
    return folder


def test_words_are_joined_without_spaces_except_between_latin_words_and_numbers() -> None:
    assert restore("小区 门口 路灯 坏") == "小区门口路灯坏"
    assert restore("2019 年 5 月 S308 线") == "2019年5月S308线"
    assert restore("打 12345 热线 APP 2 号") == "打12345热线APP 2号"


def test_masked_places_become_beijing_places_the_same_each_time() -> None:
    places = gazetteer()
    district = beijing_place("A", "3", "区")
    assert district in {d.name for d in places.districts.values()}
    county = beijing_place("K", "9", "县")
    assert any(county == f"{s.district.name}{s.name}" for s in places.streets.values())
    assert beijing_place("K", "", "市") == "北京市"
    text = restore("A3 区 小区 路灯 坏 K 市 K9 县 工厂")
    assert text == f"{district}小区路灯坏北京市{county}工厂"
    assert restore("A3 区 小区 路灯 坏 K 市 K9 县 工厂") == text


def test_the_masked_province_and_a_bare_city_word_become_beijing_once() -> None:
    assert restore("西地省 K 市 市 交通 拥堵") == "北京市交通拥堵"


def test_excel_line_breaks_become_one_line_break() -> None:
    assert restore("河道 发臭 _x000D_ _x000D_ 反映 过") == "河道发臭\n反映过"


def test_messages_are_read_restored_and_split_by_row_parity(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "real")
    messages = load_messages(folder=folder)
    assert [(m.row, m.half) for m in messages] == [(2, "tuning"), (3, "held_out"), (6, "tuning")]
    assert messages[1].text.startswith("北京市")
    assert [m.row for m in load_messages("held_out", folder=folder)] == [3]
    long = messages[2]
    assert len(long.chat) == min(len(long.text), real_data.CHAT_CHARS)


def test_a_department_is_right_when_the_class_allows_it(tmp_path: Path) -> None:
    labels = label_departments(write_folder(tmp_path / "real"))
    assert labels.is_right("环境保护", "water")
    assert not labels.is_right("环境保护", "water", strict=True)
    assert labels.is_right("城乡建设", "housing", strict=True)
    assert not labels.is_right("城乡建设", None)


def test_a_missing_folder_says_so_and_the_env_var_points_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "absent"))
    with pytest.raises(RealDataMissing, match="real data not found"):
        require_real_data()
    write_folder(tmp_path / "present")
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "present"))
    assert len(load_messages()) == 3
