"""Normalise Chinese mobile numbers as citizens write them: spaces, dashes, +86, Chinese numerals."""

from __future__ import annotations

import re

CHINESE_DIGITS = str.maketrans(
    {
        "零": "0",
        "〇": "0",
        "洞": "0",
        "o": "0",
        "O": "0",
        "一": "1",
        "幺": "1",
        "壹": "1",
        "二": "2",
        "两": "2",
        "贰": "2",
        "三": "3",
        "叁": "3",
        "四": "4",
        "肆": "4",
        "五": "5",
        "伍": "5",
        "六": "6",
        "陆": "6",
        "七": "7",
        "柒": "7",
        "拐": "7",
        "八": "8",
        "捌": "8",
        "九": "9",
        "勾": "9",
        "玖": "9",
        "０": "0",
        "１": "1",
        "２": "2",
        "３": "3",
        "４": "4",
        "５": "5",
        "６": "6",
        "７": "7",
        "８": "8",
        "９": "9",
    }
)
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
SEPARATORS = re.compile(r"[\s\-–—_.·,，、()（）]")
CANDIDATE = re.compile(
    r"(?:\+?86|＋86)?[\s\-]*[0-9０-９零〇一幺壹二两贰三叁四肆五伍六陆七柒拐八捌九勾玖][0-9０-９零〇一幺壹二两贰三叁四肆五伍六陆七柒拐八捌九勾玖\s\-–—]{9,22}"
)


def normalise_mobile(raw: str) -> str | None:
    """Return the 11-digit mobile number written in `raw`, or None when it is not one."""
    text = SEPARATORS.sub("", raw.strip().translate(CHINESE_DIGITS))
    text = text.removeprefix("＋").removeprefix("+")
    if len(text) == 13 and text.startswith("86"):
        text = text[2:]
    return text if MOBILE_RE.match(text) else None


def find_mobile(text: str) -> str | None:
    """Find the first mobile number anywhere in a message, however it is written."""
    for match in CANDIDATE.finditer(text):
        candidate = match.group(0).strip()
        # A numeral word may touch the number ("13800138000三区"): shed such characters one by one.
        for end in range(len(candidate), 10, -1):
            phone = normalise_mobile(candidate[:end])
            if phone:
                return phone
    return None
