"""The knowledge base's bench: its held-out questions stay held out, its judgement table stays true.

Every text here is written for the test; the judgement table holds no real message, only row numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backend.knowledge.service import DATA, knowledge_base
from bench.knowledge_eval import (
    Judged,
    held_out_questions,
    read_table,
    score_real,
    tuning_questions,
)
from bench.real_data import DEV_FILE


def test_the_held_out_questions_are_neither_entries_nor_tuning_questions() -> None:
    held_out = {q.text for q in held_out_questions()}
    variants = {q for e in knowledge_base().entries for q in e.questions}
    assert len(held_out) >= 250
    assert not held_out & variants and not held_out & {q.text for q in tuning_questions()}


def test_every_label_of_the_bench_is_an_entry() -> None:
    ids = {e.id for e in knowledge_base().entries}
    labels = {i for q in [*held_out_questions(), *tuning_questions()] for i in q.acceptable}
    table = read_table()
    labels |= {i for t in table for i in t.acceptable} | {t.answered for t in table} - {"-"}
    assert labels <= ids
    tuning = yaml.safe_load((Path(DATA).parent / "tuning.yml").read_text(encoding="utf-8"))
    assert len(tuning["answerable"]) == 30


def test_the_judgement_table_holds_no_sentence() -> None:
    table = read_table()
    assert len({(t.file, t.row) for t in table}) >= 150
    assert all(len(t.about) <= 10 for t in table)  # a few words of our own, never the message


@pytest.mark.parametrize(
    ("row", "refusal"),
    [
        ("check,停车收费,parking_fee_rules,heating_fee,right", "row 2"),  # disagrees with its labels
        (
            "fresh9999,停车收费,parking_fee_rules,-,abstained",
            "set 'fresh9999'",
        ),  # a set the bench does not know
    ],
)
def test_a_judgement_the_bench_cannot_count_is_refused(tmp_path: Path, row: str, refusal: str) -> None:
    table = tmp_path / "judgements.csv"
    table.write_text(
        f"file,row,view,set,about,acceptable,answered,judgement\n{DEV_FILE},2,full,{row}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match=refusal):
        read_table(table)


def test_a_row_answered_otherwise_since_it_was_judged_is_flagged() -> None:
    kb = knowledge_base()
    judged = [
        Judged(DEV_FILE, 2, "full", "check", "暖气开始", frozenset({"heating_season"}), "-", "abstained"),
        Judged(DEV_FILE, 4, "full", "check", "闲聊", frozenset(), "-", "abstained"),
    ]
    texts = {(DEV_FILE, 2, "full"): "今年暖气几号开始烧", (DEV_FILE, 4, "full"): "今天天气不错"}
    report = score_real(kb, judged, texts)
    assert report["changed_since_judged"] == [
        {"file": DEV_FILE, "row": 2, "view": "full", "judged": "-", "now": "heating_season"}
    ]
    assert report["check"]["full"]["all"]["right"] == 1 and report["check"]["full"]["all"]["abstained"] == 1
