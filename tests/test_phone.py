"""One phone module: mobiles and landlines as citizens say and write them, checked by libphonenumber."""

from __future__ import annotations

import pytest

from common.masking import mask_text
from common.phone import find_phone, mask_phone, normalise_mobile, parse_phone, strip_phones

FIELDS = {
    # mobiles
    "13800138000": "13800138000",
    "138 0013 8000": "13800138000",
    "+86-138-0013-8000": "13800138000",
    "0086 13800138000": "13800138000",
    "幺三八零零幺三八零零零": "13800138000",
    "１３８００１３８０００": "13800138000",
    "138o0138000": "13800138000",
    # landlines: area code, spoken digits, brackets, spaces, a Beijing number without its area code
    "010-62345678": "010-62345678",
    "01062345678": "010-62345678",
    "(010)6234 5678": "010-62345678",
    "（010）62345678": "010-62345678",
    "洞幺洞 六二三四 五六七八": "010-62345678",
    "6234 5678": "010-62345678",
    "+86 10 6234 5678": "010-62345678",
    "0755-23456789": "0755-23456789",
    "021 5123 4567": "021-51234567",
    # extensions, however they are written
    "010-62345678转123": "010-62345678转123",
    "010-62345678-123": "010-62345678转123",
    "010 6234 5678 分机 8801": "010-62345678转8801",
    "62345678 ext. 12": "010-62345678转12",
    "010-62345678#6": "010-62345678转6",
    "六二三四五六七八转幺两三": "010-62345678转123",
}
NOT_PHONES = [
    "12345",  # the hotline itself
    "95598",
    "400-810-8888",  # a company's service number, not a citizen's
    "1380013800",  # a digit short
    "138001380001",  # a digit too many
    "12800138000",  # no such mobile prefix
    "2024030514",  # a date and hour, not 020-24030514 without its 0
    "13800138000转12",  # a mobile has no extension
    "010-1234567",  # Beijing numbers have 8 digits and none starts with 1
    "2026120300001",  # a case number
    "",
    "不留",
]


@pytest.mark.parametrize(("written", "stored"), FIELDS.items())
def test_a_field_is_read_as_its_stored_form(written: str, stored: str) -> None:
    phone = parse_phone(written)
    assert phone is not None and phone.stored == stored
    assert phone.mobile == stored.startswith("1")


@pytest.mark.parametrize("written", NOT_PHONES)
def test_what_is_not_a_phone_is_refused(written: str) -> None:
    assert parse_phone(written) is None


def test_sms_goes_to_mobiles_only() -> None:
    assert normalise_mobile("139 1234 5678") == "13912345678"
    assert normalise_mobile("010-62345678") is None


def test_masks_keep_the_area_code_and_the_last_four_digits() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("010-62345678转123") == "010-****5678转123"
    assert parse_phone("010-62345678转123").last4 == "5678"  # type: ignore[union-attr]


SENTENCES = {
    "我电话13800138000，住在5号楼301": "13800138000",
    "王女士 139 1234 5678": "13912345678",
    "打我家座机吧 010-62345678 转 123": "010-62345678转123",
    "座机六二三四五六七八": "010-62345678",
    "13800138000三区": "13800138000",  # a numeral word touching the number is not part of it
    "幺三八 零零幺三 八零零零 白天都在": "13800138000",
}


@pytest.mark.parametrize(("said", "stored"), SENTENCES.items())
def test_a_phone_is_found_in_a_message_and_masked_in_logs(said: str, stored: str) -> None:
    found = find_phone(said)
    assert found is not None and found.stored == stored
    digits = stored.replace("-", "").partition("转")[0]
    assert digits[-8:-4] not in mask_text(said).translate(str.maketrans("幺零三八", "1038"))
    assert stored not in strip_phones(said)


def test_numbers_that_are_not_phones_are_not_found() -> None:
    for text in (
        "1733465148123 是时间戳",
        "2026-12-06 06:05:48 的记录",
        "工单2026120300001",
        "一共花了1380元",
    ):
        assert find_phone(text) is None, text
