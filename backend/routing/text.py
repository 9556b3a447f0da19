"""Chinese text handling for routing: normalisation and a jieba segmenter with our dictionary."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache

import jieba

from backend.reference.gazetteer import dictionary_words

CJK = re.compile(r"[\u4e00-\u9fff]")
WORDLIKE = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def normalise(text: str) -> str:
    """Full-width to half-width, one kind of space, no control characters."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return re.sub(r"\s+", " ", text).strip()


@cache
def segmenter() -> jieba.Tokenizer:
    """A jieba tokenizer of our own (not the global one) that keeps places and hotline terms whole."""
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in dictionary_words():
        tokenizer.add_word(word, freq=2000)
    return tokenizer


def words(text: str) -> list[str]:
    """Segment into words, dropping spaces and punctuation."""
    return [w for w in segmenter().lcut(text) if WORDLIKE.search(w)]


def has_chinese(text: str) -> bool:
    return CJK.search(text) is not None


def has_words(text: str) -> bool:
    return WORDLIKE.search(text) is not None
