"""Title search: prefix and typo tolerant. Pure.

Each title is indexed by its name (weight 1), its cast (0.7) and its genres (0.6).
A query scores against every indexed phrase: a whole-phrase prefix match is best,
then a word prefix, then fuzzy similarity (character-trigram Dice coefficient and
``difflib`` ratio per word, so one or two typos still match). Results below a
threshold are dropped; ties break by popularity.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from service.catalog import Title


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = "".join(c.lower() if c.isalnum() else " " for c in stripped)
    return " ".join(cleaned.split())


def trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def phrase_score(query: str, phrase: str) -> float:
    """0..1: how well a normalized query matches a normalized phrase."""
    if not query or not phrase:
        return 0.0
    if phrase == query:
        return 1.0
    if phrase.startswith(query):
        return 0.95
    words = phrase.split()
    qwords = query.split()
    if any(w.startswith(query) for w in words):
        return 0.9
    if query in phrase:
        return 0.8
    # Fuzzy: every query word finds its best word in the phrase (typos, prefixes with typos).
    per_word = []
    for q in qwords:
        best = 0.0
        for w in words:
            cut = w[: len(q) + 1] if len(w) > len(q) else w  # compare like a prefix
            best = max(best, difflib.SequenceMatcher(None, q, w).ratio(),
                       difflib.SequenceMatcher(None, q, cut).ratio() * 0.95)
        per_word.append(best)
    word_score = sum(per_word) / len(per_word)
    tri = _dice(trigrams(query), trigrams(phrase))
    return 0.7 * max(word_score, tri) + 0.3 * min(word_score, tri) if word_score > 0.5 else 0.6 * tri


@dataclass(frozen=True)
class SearchHit:
    title: Title
    score: float


def search(titles: Sequence[Title], query: str, *, limit: int = 20, threshold: float = 0.55) -> list[SearchHit]:
    q = normalize(query)
    if not q:
        return []
    hits: list[SearchHit] = []
    for t in titles:
        score = phrase_score(q, normalize(t.title))
        for name in t.cast:
            score = max(score, 0.7 * phrase_score(q, normalize(name)))
        for genre in t.genres:
            score = max(score, 0.6 * phrase_score(q, normalize(genre)))
        if score >= threshold * (0.5 if len(q) <= 2 else 1.0):
            hits.append(SearchHit(t, score))
    hits.sort(key=lambda h: (-round(h.score, 3), -h.title.popularity, h.title.id))
    return hits[:limit]
