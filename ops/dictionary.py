"""Write the jieba dictionary the Rasa model trains with (bot/dictionary/jiesu.txt) from the gazetteer.

The Rasa environment imports nothing of ours, so the dictionary is generated here and committed;
a test fails when the committed file is out of date.
"""

from __future__ import annotations

from pathlib import Path

from backend.reference.gazetteer import dictionary_words

TARGET = Path(__file__).resolve().parent.parent / "bot" / "dictionary" / "jiesu.txt"
FREQUENCY = 2000
# Words of jieba's own dictionary that put an entity boundary inside one token, so the entity cannot
# be tagged: "我姓|韩" (the surname is annotated as 姓韩 or 韩), "青春|路上" (the street ends inside
# 路上). Frequency 0 makes jieba always split them.
FORCE_SPLIT = ("我姓", "路上")


def render() -> str:
    words = "".join(f"{word} {FREQUENCY} n\n" for word in dictionary_words())
    return words + "".join(f"{word} 0\n" for word in FORCE_SPLIT)


def main() -> None:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET} ({len(render().splitlines())} words)")


if __name__ == "__main__":
    main()
