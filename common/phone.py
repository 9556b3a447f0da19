"""Phone numbers as citizens say and write them: one module reads, checks, finds and shapes them.

- Folding is the project's own: Chinese numerals as people say digits (幺 1, 两 2, 洞 0, 拐 7, 勾 9 …),
  full-width digits, and the letter o for a zero in a number typed alone.
- Checking is libphonenumber's (the `phonenumbers` package) for China: a mobile (13800138000, +86 …) or a
  landline with its area code (010-62345678, (0755)2345 6789) and perhaps an extension (转123, 分机123,
  -123, ext 123). A local number without area code (6234 5678) is a Beijing one: 010.
- The stored form: a mobile as its 11 digits, a landline as 010-62345678 or 010-62345678转123.
- `number_spans` finds in free text every piece that looks like a phone, valid or not, for masking
  (common.masking); `find_phone` finds the first valid one, for reading an answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import phonenumbers

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
# In running text the letter o is left out: mapping it would glue words to numbers (info13912345678).
# Each mapping is one character to one, so a match in folded text has the same span in the original.
TEXT_DIGITS = {k: v for k, v in CHINESE_DIGITS.items() if chr(k) not in "oO"}
BEIJING_AREA = "010"
PHONE_CHARS = 24  # room in a column for the stored form: 0755-23456789转123456 is 20
EXTENSION_DIGITS = 6
CHECKED_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)

SEP_CHARS = r" \t\u00a0\u3000\-–—－.·"
SEP = rf"[{SEP_CHARS}]"
EXTENSION = re.compile(
    rf"^(?P<main>.*?)\s*(?:转|分机|ext\.?|x|#|＃){SEP}*(?P<ext>\d{{1,{EXTENSION_DIGITS}}})$", re.I
)
DASHED_EXTENSION = re.compile(rf"^(?P<main>.*?\d{{7,8}}){SEP}+(?P<ext>\d{{1,{EXTENSION_DIGITS}}})$")
NOT_DIGITS = re.compile(r"\D")
# The letter o in running text is a zero only between digits or beside one, not inside a word.
LETTER_ZERO = re.compile(r"(?<![A-Za-z])[oO](?=\d)|(?<=\d)[oO](?![A-Za-z])")
ASCII_DIGITS = frozenset("0123456789０１２３４５６７８９")

# The shapes of phones in free text, on folded text (TEXT_DIGITS): a mobile whole or in the groups
# people write it in (139 1234 5678, 1391 234 5678), never any grouping (lists of numbers are not
# phones); a landline with its area code and perhaps an extension; a bare local number after a word
# that says it is a phone.
MOBILE = re.compile(
    rf"(?<!\d)(?:(?:[+＋]|00)86{SEP}{{0,3}})?"
    rf"(1[3-9]\d(?:{SEP}{{0,3}}\d{{4}}{SEP}{{0,3}}\d{{4}}|\d{SEP}{{0,3}}\d{{3}}{SEP}{{0,3}}\d{{4}}))(?!\d)"
)
LANDLINE = re.compile(
    rf"(?<!\d)[(（]?(0(?:10|2\d|[3-9]\d\d))[)）]?{SEP}{{0,3}}([2-9]\d{{2,3}}){SEP}{{0,2}}(\d{{4}})(?!\d)"
)
LOCAL_PHONE = re.compile(
    rf"(?:电话|座机|固话|手机|号码|联系方式)[^\d\n]{{0,6}}?(?<!\d)([2-9]\d{{2,3}}{SEP}{{0,2}}\d{{4}})(?!\d)"
)
# Any run of digits and separators long enough to be a phone, however it is grouped: checked by
# libphonenumber before it counts (find_phone), so 2026-12-06 or a price never does.
RUN = re.compile(
    rf"(?:(?:[+＋]|00)86{SEP}*)?[(（]?\d[\d()（）{SEP_CHARS}]{{6,22}}\d(?:\s*(?:转|分机|#){SEP}*\d{{1,6}})?"
)
SAID = re.compile(r"(?:手机号?|电话|号码|座机|固话|联系方式)?(?:是|为|：|:)?\s*$")


@dataclass(frozen=True)
class Phone:
    """A checked Chinese phone number in its stored form (see the module)."""

    stored: str
    mobile: bool

    def __str__(self) -> str:
        return self.stored

    @property
    def masked(self) -> str:
        """138****8000, 010-****5678 (an extension stays: it names nobody)."""
        if self.mobile:
            return f"{self.stored[:3]}****{self.stored[-4:]}"
        area, _, rest = self.stored.partition("-")
        local, _, extension = rest.partition("转")
        return f"{area}-****{local[-4:]}" + (f"转{extension}" if extension else "")

    @property
    def last4(self) -> str:
        """The last four digits of the number itself (an extension's are not asked for)."""
        return NOT_DIGITS.sub("", self.stored.partition("转")[0])[-4:]


def fold(text: str, *, letters: bool = True) -> str:
    """Spoken and full-width digits to ASCII ones (the letter o too, unless `letters` is False)."""
    return text.translate(CHINESE_DIGITS if letters else TEXT_DIGITS)


def parse_phone(raw: str, *, bare_local: bool = True) -> Phone | None:
    """The phone a field holds (a mobile, or a landline with perhaps an extension), None if not one.
    With `bare_local` False, a landline needs its area code."""
    text = fold(raw.strip())
    if len(text) > 60:
        return None
    main, extension = _split_extension(text)
    international = bool(re.match(r"^\s*(?:[+＋]|00)", main))
    digits = NOT_DIGITS.sub("", main)
    if international:
        digits = digits.removeprefix("00")
        if not digits.startswith("86"):
            return None
    elif bare_local and 7 <= len(digits) <= 8 and digits[0] in "23456789":
        digits = BEIJING_AREA + digits
    elif digits[:1] not in ("0", "1"):
        return None  # a landline starts with its area code's 0 (2024030514 is no Guangzhou phone)
    if not 7 <= len(digits) <= 15:
        return None
    try:
        number = phonenumbers.parse(("+" if international else "") + digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    if kind not in CHECKED_TYPES:
        return None
    national = phonenumbers.national_significant_number(number)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return None if extension else Phone(national, mobile=True)
    area = phonenumbers.length_of_geographical_area_code(number) or 2
    stored = f"0{national[:area]}-{national[area:]}" + (f"转{extension}" if extension else "")
    return Phone(stored, mobile=False)


def _split_extension(text: str) -> tuple[str, str | None]:
    for pattern in (EXTENSION, DASHED_EXTENSION):
        match = pattern.match(text)
        if match and NOT_DIGITS.sub("", match.group("main")):
            return match.group("main"), match.group("ext")
    return text, None


def is_mobile(stored: str | None) -> bool:
    """Whether a stored phone is a mobile (SMS reaches mobiles only)."""
    phone = parse_phone(stored or "")
    return bool(phone and phone.mobile)


def normalise_mobile(raw: str) -> str | None:
    """The 11-digit mobile number a field holds, or None (SMS goes to mobiles only)."""
    phone = parse_phone(raw)
    return phone.stored if phone and phone.mobile else None


def find_phone(text: str, *, bare_local: bool = True) -> Phone | None:
    """The first valid phone anywhere in a message, however it is written; with `bare_local` False,
    an 8-digit number counts only with its area code (a message about something else may hold one)."""
    return next((phone for _, _, phone in phones_in(text, bare_local=bare_local)), None)


def phones_in(text: str, *, bare_local: bool = True) -> Iterator[tuple[int, int, Phone]]:
    """Every valid phone in a message, with its span."""
    folded = LETTER_ZERO.sub("0", fold(text, letters=False))
    for match in RUN.finditer(folded):
        # A numeral word may touch the number ("13800138000三区" folds to 138001380003): shed such
        # characters from the end (never a digit written as one) until what is left is a phone.
        for end in range(match.end(), match.start() + 6, -1):
            phone = parse_phone(folded[match.start() : end], bare_local=bare_local)
            if phone:
                # "（13987654321）": a bracket the number does not close is the text's, not the phone's
                span = folded[match.start() : end]
                opened = span[0] in "(（" and not re.search(r"[)）]", span)
                yield match.start() + opened, end, phone
                break
            if text[end - 1] in ASCII_DIGITS:
                break


def strip_phones(text: str) -> str:
    """The message without its phones and the words that announce them ("电话是…")."""
    out, last = [], 0
    for start, end, _ in phones_in(text):
        said = SAID.search(text[last:start])
        out.append(text[last : last + said.start()] if said else text[last:start])
        out.append(" ")
        last = end
    out.append(text[last:])
    return "".join(out)


class PhoneSpan(NamedTuple):
    start: int
    end: int
    masked: str


def number_spans(text: str) -> Iterator[PhoneSpan]:
    """Everything in free text that looks like a phone, with its mask (spans may overlap): the
    usual shapes whether valid or not, and any other grouping that is a valid phone."""
    folded = text.translate(TEXT_DIGITS)
    for match in MOBILE.finditer(folded):
        digits = NOT_DIGITS.sub("", match.group(1))
        yield PhoneSpan(match.start(), match.end(), f"{digits[:3]}****{digits[-4:]}")
    for match in LANDLINE.finditer(folded):
        yield PhoneSpan(match.start(), match.end(), f"{match.group(1)}-****{match.group(3)}")
    for match in LOCAL_PHONE.finditer(folded):
        yield PhoneSpan(match.start(1), match.end(1), "****" + NOT_DIGITS.sub("", match.group(1))[-4:])
    for start, end, phone in phones_in(text, bare_local=False):
        yield PhoneSpan(start, end, phone.masked)


def mask_phone(phone: str) -> str:
    """A stored phone shown masked: 138****8000, 010-****5678; **** when it is not one."""
    parsed = parse_phone(phone)
    if parsed:
        return parsed.masked
    digits = NOT_DIGITS.sub("", phone)[-11:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) == 11 else "****"
