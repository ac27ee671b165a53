"""The same CUAD question typed the ways people type it, for every retrieval benchmark.

cuad-dev's questions all follow one template, "Consider the <TITLE> between <PARTY>;
<PARTY>; <question>?", and a retriever tuned on that shape alone learns the template, not
the task. :func:`rephrase` turns one templated question into the other ways of naming (or
not naming) the same document:

- ``template``: unchanged;
- ``title_party``: the document named after the clause question, by its title and one
  party's short name ("... for the supply agreement with Acme Labs?");
- ``party``: by a party's name only ("... in our contract with Acme?");
- ``title``: by its title only, and only where that title is unique among the questions'
  documents (otherwise the question would be ambiguous by construction);
- ``none``: no document named at all ("... in the contract?"), for a fixed sample;
- ``plain``: the clause question in plain words, without its legal name ("can we walk
  away from the supply agreement with Acme Labs without giving a reason?"), the document
  named as in ``title_party`` (wordings: ``tests/bench/plain_questions.py``);
- ``plain_fresh``: a third plain wording per category, written after the lexicon was tuned
  and never used to tune it.

Everything is deterministic: choices are drawn from a random generator seeded with the
question itself, so the same question always gets the same phrasing.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Any

from tests.bench.plain_questions import PLAIN, PLAIN_FRESH

PHRASINGS = ("template", "title_party", "party", "title", "none", "plain", "plain_fresh")
NONE_SHARE = 4  # one question in this many gets a "no document named" phrasing

_SUFFIX = re.compile(
    r"(?:[,\s]+(?:inc|incorporated|corp|corporation|co|company|llc|l\.l\.c|ltd|limited|plc|"
    r"lp|l\.p|gmbh|ag|s\.a|sa|n\.v|b\.v|pte)\.?)+\s*$",
    re.I,
)
_TAIL = re.compile(r"\s+(?:and|together with|on behalf of|d/b/a|f/k/a|a/k/a)\b.*$", re.I)
_ALIAS = re.compile(r"[\"“]([^\"”]{2,40})[\"”]")
# Defined names that say what a party does rather than who it is: not a party's name.
_ROLES = frozenset(
    """company licensor licensee supplier buyer seller purchaser distributor consultant
    sponsor employer employee customer provider recipient reseller servicer owner issuer
    depositor trust administrator network affiliate talent party parties transporter shipper
    contractor manufacturer promoter agent issue you your end-user buyer entities""".split()
)


@dataclass(frozen=True)
class Template:
    title: str  # "non competition agreement and right of first offer"
    parties: tuple[str, ...]  # names, suffix dropped: "Glamis Gold", "Western Copper"
    aliases: tuple[str, ...]  # defined short names that name a party: "Glamis"
    question: str  # "What is the governing law for this contract?"


def parse(query: str) -> Template:
    """Title, parties and clause question of a templated cuad-dev query."""
    scope, _, question = query.rpartition(";")
    scope = re.sub(r"\s+", " ", scope).strip()
    m = re.match(r"Consider the (.*?) between (.*)$", scope, re.S)
    if not m:
        raise ValueError(f"not a templated query: {query[:80]}")
    title = re.sub(r"[\s,(“\"]+(?:d)?$", "", m.group(1)).strip(" ,(“\"")
    title = re.sub(r",? d$", "", title)
    parties: list[str] = []
    aliases: list[str] = []
    for part in m.group(2).split(";"):
        name = _party_name(part)
        if name and not _is_role(name) and name not in parties:
            parties.append(name)
            aliases += [a for a in (x.strip(" ,") for x in _ALIAS.findall(part))
                        if len(a) >= 3 and not _is_role(a) and a not in parties + aliases]
    return Template(title, tuple(parties), tuple(aliases), question.strip())


def _is_role(name: str) -> bool:
    return any(w in _ROLES or w.startswith("affiliate") for w in re.findall(r"[a-z-]+", name.lower()))


def _party_name(part: str) -> str:
    """"Glamis Gold Ltd. and all of its subsidiaries ("Glamis")" -> "Glamis Gold"."""
    part = part.strip()
    name = re.split(r"\s*\(", part, maxsplit=1)[0].strip(" ,")
    low = name.lower()
    if not name or "party" in low or "parties" in low or "individually" in low:
        return ""
    name = _TAIL.sub("", name)
    name = _SUFFIX.sub("", name).strip(" ,&")
    if len(name) < 2 or name.lower().startswith("the "):
        aliases = [a for a in _ALIAS.findall(part) if not _is_role(a)]
        name = aliases[0] if aliases else ""
    return name


def _rng(query: str, salt: str) -> random.Random:
    return random.Random(int(hashlib.sha1(f"{salt}|{query}".encode()).hexdigest()[:12], 16))


def _with_document(question: str, ref: str, rng: random.Random) -> str:
    """Put a reference to a document where the question says "this contract"."""
    if "this contract" in question:
        return question.replace("this contract", ref, 1)
    return question.rstrip("?") + f" {rng.choice(['under', 'in', 'for'])} {ref}?"


def _casual(text: str, rng: random.Random) -> str:
    """How people type: sometimes all lower case, sometimes short forms, sometimes no "?"."""
    if rng.random() < 0.3:
        text = text.replace("What is", "What's").replace("Is there", "Is there")
    if rng.random() < 0.4:
        text = text.lower()
    if rng.random() < 0.3:
        text = text.rstrip("?")
    return text


def unique_titles(tests: list[dict[str, Any]]) -> set[str]:
    """Titles (lower case) naming exactly one file among the tests' documents."""
    files: dict[str, set[str]] = {}
    for t in tests:
        files.setdefault(parse(t["query"]).title.lower(), set()).add(t["file"])
    return {title for title, fs in files.items() if len(fs) == 1}


def rephrase(query: str, phrasing: str, unique: set[str], category: str = "") -> str | None:
    """``query`` in another ``phrasing``; None where that phrasing does not apply to it
    (``plain`` needs the question's CUAD ``category``)."""
    if phrasing == "template":
        return query
    t = parse(query)
    rng = _rng(query, phrasing)
    title = t.title.lower()
    if phrasing == "title_party":
        if not t.parties:
            return None
        ref = f"the {title} with {rng.choice(t.parties)}"
    elif phrasing == "party":
        if not t.parties:
            return None
        frame = rng.choice(["our contract with {}", "the agreement with {}", "the contract with {}",
                            "our deal with {}"])
        # Mostly the name with its suffix dropped, sometimes the contract's short name for it.
        pool = list(t.parties) if rng.random() < 0.7 or not t.aliases else list(t.aliases)
        ref = frame.format(rng.choice(pool))
    elif phrasing == "title":
        if title not in unique:
            return None
        ref = f"the {title}"
    elif phrasing in ("plain", "plain_fresh"):
        wordings = (PLAIN[category][0] if phrasing == "plain" else (PLAIN_FRESH[category],)) if category in PLAIN else ()
        if not t.parties or not wordings:
            return None
        ref = f"the {title} with {rng.choice(t.parties)}"
        return _casual(rng.choice(wordings).format(doc=ref), rng)
    elif phrasing == "none":
        if _rng(query, "sample").randrange(NONE_SHARE):
            return None
        ref = rng.choice(["the contract", "our contracts", "the agreement"])
    else:
        raise ValueError(f"unknown phrasing {phrasing!r}")
    return _casual(_with_document(t.question, ref, rng), rng)


def phrased_tests(tests: list[dict[str, Any]], phrasing: str) -> list[dict[str, Any]]:
    """The tests that ``phrasing`` applies to, with their query rephrased (gold unchanged)."""
    unique = unique_titles(tests)
    out = []
    for t in tests:
        q = rephrase(t["query"], phrasing, unique, t.get("category", ""))
        if q is not None:
            out.append({**t, "query": q})
    return out
