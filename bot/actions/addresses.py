"""Apply a citizen's correction to an address: "地址不对，是四区" changes 三区 to 四区."""

from __future__ import annotations

import re

NUMERAL = r"[0-9零一二两三四五六七八九十百〇]+"
UNITS = (
    "号楼",
    "单元",
    "号院",
    "小区",
    "区",
    "号",
    "楼",
    "室",
    "层",
    "栋",
    "座",
    "期",
    "街",
    "路",
    "巷",
    "胡同",
    "村",
)
CORRECTION_PREFIX = re.compile(
    r"^.*?(地址|位置|地点)?(不对|错了|有误|写错了)?[,，。\s]*(应该|其实)?(是|在|改成|改为)"
)


def correction_value(text: str) -> str:
    """The new value in a correction sentence: "地址不对,是四区" -> "四区"."""
    value = CORRECTION_PREFIX.sub("", text.strip(), count=1)
    return value.strip(" ，,。.！!") or text.strip()


def merge_address(old: str, fix: str) -> str:
    """Replace the part of `old` that `fix` corrects, or take `fix` whole when it is a full address."""
    fix = fix.strip()
    for unit in UNITS:
        match = re.fullmatch(rf"({NUMERAL}){unit}", fix)
        if match:
            pattern = re.compile(rf"{NUMERAL}{unit}")
            spots = list(pattern.finditer(old))
            if spots:
                last = spots[-1]
                return old[: last.start()] + fix + old[last.end() :]
            return f"{old}{fix}"
    return fix
