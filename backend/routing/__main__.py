"""Smart dispatch on the command line.

python -m backend.routing build             train the model if the corpus changed (cached by hash)
python -m backend.routing classify          JSON lines {"text": ..., "address": ...} on stdin,
                                            one JSON answer per line on stdout
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from backend.routing.model import build
from backend.routing.places import place_finder
from backend.routing.service import MAX_ADDRESS_CHARS, MAX_TEXT_CHARS, Classifier
from backend.routing.text import has_words


def answer(classifier: Classifier, line: str) -> dict[str, object]:
    """One answer for one input line; bad input gets an error object, never a crash."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        return {"error": f"not JSON: {error.msg}"}
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return {"error": 'each line must be an object with a "text" string'}
    text, address = item["text"], item.get("address")
    if address is not None and not isinstance(address, str):
        return {"error": "address must be a string"}
    if not text.strip() or not has_words(text):
        return {"error": "text has no words"}
    if len(text) > MAX_TEXT_CHARS or len(address or "") > MAX_ADDRESS_CHARS:
        return {"error": f"text is at most {MAX_TEXT_CHARS} and address {MAX_ADDRESS_CHARS} characters"}
    return classifier.route(text, address).public()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m backend.routing",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["build", "classify"])
    parser.add_argument("--models-dir", type=Path, default=Path("models/routing"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    if args.command == "build":
        _, path = build(args.models_dir, place_finder(), force=args.force)
        print(path, file=sys.stderr)
        return
    classifier = Classifier.load(args.models_dir)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(answer(classifier, line), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
