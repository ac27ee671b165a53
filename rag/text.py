"""Text normalisation shared by keyword search, document finding, quoting and grounding.

One place for what counts as a word, which words carry no meaning for matching, and how
text splits into sentences, so that the keyword index, the document finder, the quote
picker and the sentence checker agree about all three.
"""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a an and are as at be been being between by can consider contract could did do does
    for from had has have how i if in include includes including into is it its may might
    must of on or other such than that the their there these this those to under was were
    what when where whether which who will with would any all agreement party parties""".split()
)

WORD = re.compile(r"[A-Za-z0-9]+")


def keywords(text: str) -> list[str]:
    """Lower-case words worth matching on: no stop words, no single characters."""
    return [w for w in (x.lower() for x in WORD.findall(text)) if len(w) > 1 and w not in STOPWORDS]


def stem(word: str) -> str:
    """Crude, but enough for "governs" to meet "governed", "laws" "law" and "royalties" "royalty"."""
    if len(word) > 5 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
