"""Write the jieba dictionary the Rasa model trains with (bot/dictionary/jiesu.txt) from the gazetteer.

The Rasa environment imports nothing of ours, so the dictionary is generated here and committed;
a test fails when the committed file is out of date.
"""

from __future__ import annotations

from pathlib import Path

from backend.reference.gazetteer import dictionary_words

TARGET = Path(__file__).resolve().parent.parent / "bot" / "dictionary" / "jiesu.txt"
FREQUENCY = 2000


def render() -> str:
    return "".join(f"{word} {FREQUENCY} n\n" for word in dictionary_words())


def main() -> None:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET} ({len(render().splitlines())} words)")


if __name__ == "__main__":
    main()
