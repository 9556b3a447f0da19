"""The rules on citizens' words are plain Python: importing them loads nothing of Rasa or rasa-sdk."""

from __future__ import annotations

import subprocess
import sys

from bot.actions.appeal_words import field_named, is_bare_intention, named_type, said_name
from ops.stack import ROOT

LOADED = "import sys, bot.actions.appeal_words; print(sorted(m for m in sys.modules if m.startswith('rasa')))"


def test_the_word_rules_import_nothing_of_rasa() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


def test_the_word_rules_read_colloquial_answers() -> None:
    assert is_bare_intention("你好 我想反映个事儿") and not is_bare_intention("我想反映下水道堵了")
    assert named_type("我要举报") == "report" and named_type("那就咨询一下") == "consultation"
    assert named_type("好的") is None
    assert field_named("地址写错了") == "address" and field_named("手机号不对") == "contact_phone"
    assert said_name("我姓欧阳") == "欧阳" and said_name("。。。") is None
