"""A review's columns: a name and a question as a reviewer types it, and what kind of
clause or fact it asks for.

A kind is data, not code: the words that show a question asks for it, the wording a
document uses when it says it (its *cues*: without one, the document does not state it),
and the type of short answer (a place, a date, a duration, an amount, yes/no, a list).
A question that matches no kind is still answered: its cues are then its own topic words.
Presets are lists of columns, editable by the user like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ask.quotes import topic_words
from rag.text import stem


@dataclass(frozen=True)
class Column:
    name: str
    question: str

    @classmethod
    def parse(cls, spec: str) -> Column:
        """``"NAME=QUESTION"`` (the command line's form); a bare question names itself."""
        name, sep, question = spec.partition("=")
        if not sep:
            return cls(spec.strip()[:40], spec.strip())
        return cls(name.strip() or question.strip()[:40], question.strip())


@dataclass(frozen=True)
class Kind:
    name: str
    asks: tuple[str, ...]  # stems (or "stem stem" pairs) that show a question asks for it
    cues: str  # a regex: how a document says it (case-insensitive)
    answer: str  # place | date | duration | amount | yesno | list | text
    not_cue: str = ""  # a regex of wordings that look like a cue but are not ("exclusive jurisdiction")
    # Stated only by an operative clause: a definition using the kind's words ("“Competing
    # Product” means ...", "“Change of Control” means ...") names a thing and obliges no
    # one, so it is no cue. Not so for the term, often stated as one ("“Term” means ...").
    operative: bool = False


# A non-compete need not say "compete": a party bound not to develop, make, sell or
# acquire what the other does, for a time ("during the Term", "for 24 months after its
# termination"), is restrained from competing all the same.
_RESTRAINT = (r"\b(?:not|neither|prohibited from|refrain from)\b[^.;]{0,100}?\b(?:develop|commerciali[sz]e|manufactur"
              r"|sell|distribut|provide|produce|market|promot|advertis|acquir|conduct|engage|research)\w*")
_TIME_BOUND = r"(?:\bduring the term\b|\bfor a period of\b[^.;]{0,40}?\b(?:after|following)\b)"
NON_COMPETE_RESTRAINT = rf"{_TIME_BOUND}[^.;]{{0,120}}?{_RESTRAINT}|{_RESTRAINT}[^.;]{{0,150}}?{_TIME_BOUND}"


# How a clause of each kind is written when a document has one, stricter than its cues,
# and the words of a section heading that names it (rag/ask/review/evidence.py): general drafting of each clause type (no
# benchmark contract's wording), read as evidence that the document has one.
STRONG: dict[str, tuple[str, str]] = {
    "governing law": (r"\bgoverned by\b|\bgoverning law\b|\bconstrued in accordance with\b",
                      r"\bgoverning law\b|\bapplicable law\b|\bchoice of law\b"),
    # How long it lasts, said of the agreement ("the term of this Agreement shall commence
    # ... and continue for", "shall expire on"), not "during the term of this Agreement",
    # which every other clause says.
    "term": (r"\binitial term\b|\bterm\b[\"”]?(?: of this agreement)?(?: \([^)]{0,40}\))?,? (?:shall|will) (?:be|begin"
             r"|commence|continue|expire|end|run|remain)\b|\bshall (?:automatically )?expire\b"
             r"|\b(?:expiration|expiry|termination|end) date\b\W{0,3}(?:is|shall be|:)"
             r"|\bthis agreement (?:shall|will) (?:commence|begin|become effective|come into (?:force|effect)"
             r"|be in effect|expire|end)\b|\bcomes? into (?:force|effect)\b|\bshall (?:terminate|end) on\b"
             r"|\b(?:remain|continue) in (?:full )?(?:force|effect)\b.{0,80}?\b(?:until|for|years?)\b"
             r"|\b(?:continue|remain valid|be in effect)\b.{0,30}?\b(?:for a period of|until|in perpetuity)\b"
             r"|[\"“](?:initial )?term[\"”],? (?:shall )?means?\b",
             r"\bterm\b|\bduration\b|\bexpiration\b"),
    "renewal": (r"\bautomatic(?:ally)? (?:be )?(?:renew|extend)\w*|\brenew\w* (?:term|period)s?\b"
                r"|\bsuccessive\b.{0,30}?\b(?:periods?|terms?)\b|\bunless (?:either|one) party\b.{0,80}?\bnotice\b"
                r"|\bextend\w*\b.{0,60}?\b(?:additional|successive|further)\b.{0,20}?\b(?:terms?|periods?|years?)\b",
                r"\brenewal\b|\bextension\b"),
    "termination for convenience": (r"\bfor convenience\b|\bwithout cause\b|\bfor any (?:or no )?reason\b",
                                    r"\btermination\b"),
    "assignment": (r"\b(?:not|no)\b.{0,60}?\bassign\w*|\bassign\w*\b.{0,150}?\b(?:prior|written) (?:written )?consent\b"
                   r"|\bconsent\b.{0,80}?\bassign\w*", r"\bassignment\b|\bassigns?\b"),
    "change of control": (r"\bchange (?:of|in) (?:the )?control\b|\bmerger\b|\bacqui\w+\b.{0,60}?\b(?:all|substantially"
                          r"|majority|control)\b|\b(?:sale|transfer) of (?:all|substantially all)\b",
                          r"\bchange (?:of|in) control\b|\bmerger\b"),
    "liability cap": (r"\bin no event\b.{0,200}?\bexceed\w*|\bexclusive liability\b"
                      r"|\blimitations? (?:of|on) liability\b|\bliabilit\w*\b.{0,120}?\bno greater than\b|\b(?:aggregate|total|maximum|cumulative|entire) liability\b"
                      r"|\bliabilit\w*\b.{0,120}?\blimited to\b|\bshall not exceed\b"
                      r"|\b(?:not|no|neither)\b.{0,80}?\bliable\b.{0,200}?\b(?:consequential|incidental|indirect|punitive)\b",
                      r"\blimitation (?:of|on) liability\b|\bliability\b"),
    # "an exclusive, non-transferable, royalty-bearing license": the grant's adjectives
    # come between the word and what it makes exclusive.
    "exclusivity": (r"\bexclusive\b[^.;]{0,60}?\b(?:rights?|distributor|license|licensee|supplier|provider|basis"
                    r"|agent|reseller|dealer)\b|\bsole (?:and exclusive )?(?:supplier|distributor|provider|source|reseller"
                    r"|agent|licensee)\b|\bexclusively\b|\bsole and exclusive\b", r"\bexclusiv\w*"),
    "non-compete": (r"\bnon-?compet\w*|\bnot\b.{0,80}?\bcompet\w*|\bcompeting (?:products?|business|services)\b"
                    r"|\brestrictive covenant|" + NON_COMPETE_RESTRAINT, r"\bnon-?compet\w*|\bcompetition\b|\bcompetitive\b|\brestrictive\b"),
    "audit rights": (r"\baudit\w*|\binspect\w*\b.{0,60}?\b(?:books|records)\b"
                     r"|\baccess\b.{0,60}?\b(?:books|records)\b|\b(?:available|open) for (?:inspection|examination)\b", r"\baudit\w*|\brecords\b|\binspection\b"),
    "insurance": (r"\binsurance\b.{0,120}?\b(?:maintain|carry|obtain|polic\w*|coverage)\b"
                  r"|\b(?:maintain|carry|obtain)\b.{0,120}?\binsurance\b", r"\binsurance\b"),
}


_I = re.IGNORECASE | re.DOTALL

# Cue wordings read from contracts and clinical letters; each stays general (no contract's
# own wording): a document that never says "assign", "transfer" or "successor" has no
# anti-assignment clause whatever its score.
KINDS: tuple[Kind, ...] = (
    Kind("governing law", ("govern", "law", "jurisdict", "legal system"),
         r"\bgovern(?:ed|s|ing)?\b.{0,120}?\blaws?\b|\blaws? of (?:the )?(?:state|province|commonwealth|republic)"
         r"|\bconstrued\b.{0,80}?\blaws?\b|\bgoverning law\b", "place"),
    Kind("term", ("expir", "term", "end", "last", "durat", "until"),
         r"\b(?:term|expir\w*|continue|remain)\b.{0,200}?\b(?:years?|months?|anniversary|until|through|"
         r"\d{4})\b|\bterm of this agreement\b|\b(?:remain|continue) (?:valid|in (?:full )?(?:force|effect))\b"
         r"|\bperpetu\w*|\bshall (?:automatically )?expire\b|\b(?:expiration|expiry|termination) date\b", "date"),
    Kind("renewal", ("renew", "extend", "extens", "roll"),
         r"\brenew\w*|\bextend\w*.{0,60}?\b(?:additional|successive|further|another)\b"
         r"|\bextend\w* for (?:a|an additional|a further) (?:period|term)\b|\bsuccessive\b.{0,40}?"
         r"\b(?:periods?|terms?|years?)\b|\bevergreen\b", "duration", operative=True),
    Kind("termination for convenience", ("conveni", "without caus", "any reason", "walk away", "cancel",
                                          "termin"),
         r"\bterminat\w*\b.{0,250}?(?:\bconvenience\b|\bwithout cause\b|\bfor any reason\b|\bno reason\b|"
         r"\bat any time\b|\bfor any or no reason\b|\bin its (?:sole )?discretion\b)"
         r"|(?:\bconvenience\b|\bwithout cause\b|\bat any time\b).{0,120}?\bterminat\w*"
         # "may terminate ... upon thirty (30) days' notice": an exit needing no breach.
         r"|\bmay\b.{0,40}?\bterminat\w*\b.{0,120}?\b(?:\d+|ten|fifteen|thirty|sixty|ninety)\b.{0,30}?\bnotice\b"
         # The notice first: "upon ninety (90) days' written notice, either party may terminate".
         r"|\b(?:\d+|ten|fifteen|thirty|sixty|ninety)\b.{0,30}?\bnotice\b[^.;]{0,40}?\bmay\b.{0,20}?\bterminat\w*"
         r"|\b(?:option|discretion)\b.{0,80}?\bterminat\w*", "duration", operative=True,
         # What survives "termination or expiration ... for any reason" is no right to end it,
         # nor is ending it "at any time" on a breach or insolvency (that is for cause).
         not_cue=r"\b(?:termination or expiration|expiration or termination)\b|\bsurviv\w*"
                 r"|\bat any time\b(?=[^.;]{0,60}?\b(?:breach\w*|default\w*|insolven\w*|bankrupt\w*)\b)"),
    Kind("assignment", ("assign", "transfer", "novat"),
         r"\bassign\w*\b|\btransfer\w*\b.{0,80}?\b(?:agreement|rights|obligations)\b|\bsuccessors?\b", "yesno",
         operative=True),
    Kind("change of control", ("control", "merger", "acquir", "acquisit", "takeov", "ownership"),
         r"\bchange (?:of|in) (?:the )?control\b|\bmerg(?:er|e|es|ed|ing)\b|\bacqui(?:red|sition|res?)\b"
         r"|\bconsolidat\w*|\bsale of (?:all|substantially)|\bcontrolling (?:interest|stake)\b", "yesno",
         operative=True),
    Kind("liability cap", ("cap", "limit", "liabil", "maximum", "exposur"),
         r"\b(?:liabilit\w*|damages|amounts?)\b.{0,250}?(?:\bexceed\w*\b|\blimited to\b|\bin no event\b|"
         r"\bmaximum\b|\baggregate\b|\bcap\b)|\b(?:in no event|under no circumstances)\b.{0,200}?\bliab"
         # A limit on what is recoverable is one too: "neither party shall be liable for
         # consequential damages", "limitation of liability".
         r"|\b(?:not|no|neither)\b.{0,80}?\b(?:liable|responsible)\b.{0,200}?\b(?:damages|loss(?:es)?)\b"
         r"|\blimitations? (?:of|on) liability\b|\b(?:consequential|incidental|punitive)\b.{0,80}?\bdamages\b"
         # A sole remedy caps what may be claimed: "Buyer's sole and exclusive remedy shall be ...".
         r"|\b(?:sole|exclusive) (?:and exclusive )?(?:remed(?:y|ies)|liability)\b|\bno greater than\b",
         "amount", operative=True),
    Kind("indemnity", ("indemn", "hold harmless", "defend"),
         r"\bindemnif\w*|\bhold\b.{0,30}?\bharmless\b", "yesno", operative=True),
    Kind("exclusivity", ("exclus", "sole", "only supplier", "only distributor"),
         r"\bexclusiv\w*|\bsole (?:and exclusive )?(?:supplier|distributor|provider|source|reseller|agent|licensee)"
         r"|\bsolely from\b|\bnot (?:be )?(?:appoint|engag|grant)\w*\b.{0,80}?\b(?:other|third|any)\b"
         r"|\bnot\b.{0,40}?\b(?:obtain|purchase|buy|license|sell|distribute)\w*\b.{0,80}?\b(?:other|third|any) "
         r"(?:part\w*|suppliers?|sources?|vendors?|distributors?)\b", "yesno",
         not_cue=r"\bexclusive (?:jurisdiction|venue|remed\w*|property|courts?|forum|of)\b|\bnon-?exclusive\b"
         # Owning a thing exclusively, or an agreement being the only one, binds no one.
         r"|\b(?:sole and )?exclusive (?:owner|holder|agreement|statement|understanding)\b|\bcomplete and exclusive\b",
         operative=True),
    Kind("non-compete", ("compet", "rival"),
         # Competition restrained, not merely named ("a direct competitor", "unfair competition",
         # "whether or not it competes"): a non-compete forbids it.
         r"\bnon-?compet\w*|\b(?:not|neither|nor|prohibit\w*|restrict\w*|refrain\w*|covenants?)\b[^.;]{0,100}?\bcompet\w*"
         r"|\bcompet\w*\b[^.;]{0,60}?\b(?:prohibit|restrict)\w*|\bcompeting (?:products?|business|services)\b"
         r"|\bsimilar products\b|\bengage in\b.{0,80}?\bbusiness\b"
         r"|\b(?:not|prohibited from|refrain from)\b.{0,60}?\b(?:develop|commerciali[sz]e|manufactur|sell|distribut"
         r"|provide|produce|market|promot|advertis|solicit)\w*\b.{0,120}?\b(?:similar|third part\w*|other part\w*)\b"
         rf"|{NON_COMPETE_RESTRAINT}",
         "yesno",
         not_cue=r"\bcompetent\b|\bcompetitive (?:price|pricing|rates?|terms|harm|disadvantage)\b|\bcompetitively\b"
         r"|\bunfair competition\b|\bwhether or not\b", operative=True),
    Kind("audit rights", ("audit", "inspect", "examin", "book", "record"),
         r"\baudit\w*|\binspect\w*\b.{0,80}?\b(?:books|records|facilit\w*|premises)\b|\bbooks\b.{0,20}?\brecords\b"
         r"|\bexamin\w*\b.{0,60}?\brecords\b|\baccess to\b[^.;]{0,60}?\b(?:books|records|documents|files|premises|facilit\w*)\b"
         r"|\b(?:available|open) for (?:inspection|examination)\b",
         "yesno", operative=True,
         # Audited accounts and an auditor's opinion are about financial statements, not a
         # party's right to look at the other's books.
         not_cue=r"\b(?:un)?audited\b[^.;]{0,40}?\bfinancial\b|\bauditors?(?:'s|’s)? (?:opinion|report)\b"
                 r"|\bindependent (?:certified )?(?:public )?(?:accountants|auditors)\b"),
    Kind("insurance", ("insur", "cover", "polic"),
         r"\binsur\w*|\bpolic(?:y|ies) of\b|\bcoverage\b", "yesno", operative=True),
    # -- medical record review -------------------------------------------------------
    Kind("allergies", ("allerg", "react", "intoler"),
         r"\ballerg\w*|\bnkda\b|\bno known (?:drug )?allergies\b|\bintoleran\w*|\banaphyla\w*", "list"),
    Kind("medications", ("medic", "drug", "dose", "prescri", "tablet"),
         r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|g|ml|units?|iu)\b|\b(?:tablets?|capsules?|daily|bd|bid|tds|tid|"
         r"nocte|od|prn)\b|\bprescri\w*", "list"),
    Kind("diagnoses", ("diagnos", "condit", "problem", "impress"),
         r"\bdiagnos\w*|\bimpression\b|\bassessment\b|\bhistory of\b|\bconsistent with\b", "list"),
    Kind("procedures", ("procedur", "surger", "operat", "underw"),
         r"\bprocedure\w*|\bsurger\w*|\boperation\b|\bunderwent\b|\bperformed\b|\w+(?:ectomy|otomy|oscopy|plasty)\b",
         "list"),
    Kind("follow-up", ("follow", "review", "appoint", "next", "return"),
         r"\bfollow[- ]?up\b|\breview(?:ed)? in\b|\bappointment\b|\breturn\b.{0,40}?\b(?:clinic|weeks?|months?)\b"
         r"|\brepeat\b|\brefer\w*", "text"),
    Kind("clinicians", ("clinician", "doctor", "physician", "consult", "surgeon", "nurse", "treat"),
         r"\bdr\.?\s+[A-Z]|\b(?:consultant|physician|surgeon|nurse|registrar|gp|md|frcp|mrcp)\b", "list"),
)


# What a clause of each kind typically says, in general drafting (written for docqa, no
# contract's wording): the passages of a document are compared with it as well as with
# the reviewer's question, which may be a few plain words ("Is it exclusive?") that say
# little about how the clause reads.
EXAMPLES: dict[str, str] = {
    "governing law": "This Agreement shall be governed by and construed in accordance with the laws of the State.",
    "term": "The term of this Agreement shall commence on the Effective Date and continue for a period of years, "
            "after which it shall expire unless terminated earlier.",
    "renewal": "This Agreement shall automatically renew for successive renewal terms of one year unless either "
               "party gives written notice of non-renewal before the end of the then-current term.",
    "termination for convenience": "Either party may terminate this Agreement for convenience, without cause and "
                                   "for any reason, upon thirty days' prior written notice to the other party.",
    "assignment": "Neither party may assign or transfer this Agreement or any of its rights or obligations "
                  "hereunder without the prior written consent of the other party.",
    "change of control": "In the event of a change of control of a party, including a merger, consolidation, "
                         "acquisition or sale of all or substantially all of its assets or voting stock, the "
                         "other party may terminate this Agreement or must consent.",
    "liability cap": "In no event shall either party's aggregate liability under this Agreement exceed the "
                     "amounts paid hereunder, and neither party shall be liable for indirect, incidental or "
                     "consequential damages.",
    "indemnity": "Each party shall indemnify, defend and hold harmless the other party from and against any "
                 "claims, losses and damages arising out of its breach of this Agreement.",
    "exclusivity": "The Company appoints the Distributor as its exclusive distributor in the Territory and "
                   "shall not appoint any other distributor or sell the Products to any third party there.",
    "non-compete": "During the term and for a period after it, the party shall not, directly or indirectly, "
                   "engage in, develop, manufacture or sell any products or business that compete with those "
                   "of the other party.",
    "audit rights": "Each party shall keep complete and accurate books and records, and the other party may "
                    "audit and inspect such books and records upon reasonable notice during business hours.",
    "insurance": "The party shall maintain at its own expense commercial general liability insurance with "
                 "coverage limits of not less than a stated amount per occurrence and shall name the other "
                 "party as an additional insured.",
}


# A definition, quoted ("“Competing Product” means ...") or numbered in a definitions
# article ("1.11. Exclusivity Period shall mean ..."), to the end of its sentence.
DEFINITION = (r"[\"“][^\"”]{1,60}[\"”],?\s+(?:shall\s+)?(?:only\s+)?(?:means?|has the meaning|is defined|shall have the"
              r" meaning)\b[^.;]*|\b\d{1,2}(?:\.\d{1,2})*\.?\s+(?:[A-Z][\w-]*\s+){1,5}shall\s+mean\b[^.;]*")


def not_cue_of(kind: Kind | None) -> re.Pattern[str] | None:
    """What is taken out of a text before its cues are sought: the kind's look-alikes
    and, for a kind stated only by an operative clause, definitions."""
    parts = [kind.not_cue] if kind is not None and kind.not_cue else []
    if kind is not None and kind.operative:
        parts.append(DEFINITION)
    return re.compile("|".join(f"(?:{p})" for p in parts), re.I) if parts else None


def strong_of(kind: Kind | None) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """(strong wording, heading) patterns of a kind; None where it has none."""
    strong, heading = STRONG.get(kind.name, ("", "")) if kind is not None else ("", "")
    return (re.compile(strong, _I) if strong else None, re.compile(heading, re.I) if heading else None)


def kind_of(question: str) -> Kind | None:
    """The kind a question asks for (None when it matches none well): the one whose asking
    words it holds most of, two-word phrases counting double."""
    text = " ".join(stem(w) for w in re.findall(r"[a-z]+", question.lower()))
    best: tuple[float, Kind | None] = (0.0, None)
    for kind in KINDS:
        score = sum((2.0 if " " in a else 1.0) for a in kind.asks if re.search(rf"\b{re.escape(a)}", text))
        if score > best[0]:
            best = (score, kind)
    return best[1]


def own_cues(question: str) -> str:
    """Cues for a question no kind covers: its own topic words, any of them."""
    words = [re.escape(stem(w)) for w in topic_words(question)]
    return r"\b(?:" + "|".join(words) + r")" if words else r"\w"


CONTRACT_REVIEW: tuple[Column, ...] = (
    Column("Governing law", "Which law governs this agreement?"),
    Column("Term / expiry", "When does the agreement expire, and how long is its term?"),
    Column("Renewal", "Does the agreement renew automatically, and for how long?"),
    Column("Termination for convenience", "Can a party terminate for convenience, without cause?"),
    Column("Assignment", "Can the agreement be assigned or transferred, and does it need consent?"),
    Column("Change of control", "What happens on a change of control, merger or acquisition?"),
    Column("Liability cap", "Is liability capped or limited, and to what amount?"),
    Column("Indemnity", "Who indemnifies whom, and for what?"),
    Column("Exclusivity", "Is there an exclusivity obligation?"),
    Column("Non-compete", "Is a party restricted from competing?"),
    Column("Audit rights", "Does a party have the right to audit books and records?"),
    Column("Insurance", "What insurance must a party carry?"),
)

MEDICAL_REVIEW: tuple[Column, ...] = (
    Column("Allergies", "What allergies or drug intolerances does the patient have?"),
    Column("Current medications", "What medications is the patient taking, with doses?"),
    Column("Diagnoses", "What are the patient's diagnoses?"),
    Column("Procedures", "What procedures or operations were performed, and when?"),
    Column("Follow-up", "What follow-up is planned?"),
    Column("Treating clinicians", "Which clinicians are treating the patient?"),
)

PRESETS: dict[str, tuple[Column, ...]] = {"contract": CONTRACT_REVIEW, "medical": MEDICAL_REVIEW}
