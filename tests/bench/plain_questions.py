"""cuad-dev's clause questions in plain words: how a client, a nurse or a junior asks them.

Each CUAD category gets at least two wordings of our own (``{doc}`` is where the document
is named, as in the ``title_party`` phrasing). They avoid the category's legal name and the
usual words of its clause headings (``LEGAL``), so that a retriever can only find the
clause by bridging the vocabulary: "can we walk away without giving a reason?" must find
"either party may terminate this Agreement for convenience". tests/rag/test_plain_words.py
checks that no wording uses a word of its category's ``LEGAL`` list (stems compared).
"""

from __future__ import annotations

# category -> (plain wordings, words a wording must not use: the legal name and its heading words)
PLAIN: dict[str, tuple[tuple[str, ...], str]] = {
    "Governing Law": (
        ("Which country's or state's rules apply to {doc}?",
         "If there's a fight over {doc}, whose rules would be used to settle it?"),
        "governing govern governed law laws jurisdiction construed construction applicable venue",
    ),
    "Expiration Date": (
        ("When does {doc} run out?",
         "How long does {doc} last before it's over?"),
        "expiration expire expires expiry term date termination duration",
    ),
    "Renewal Term": (
        ("Does {doc} keep going after it first runs out, and for how long?",
         "If nobody does anything, does {doc} roll over, and for how long each time?"),
        "renewal renew renewed renewable term extend extension automatic automatically successive",
    ),
    "Notice Period To Terminate Renewal": (
        ("How far ahead do we have to tell them if we don't want {doc} to roll over again?",
         "How much warning is needed to stop {doc} from carrying on by itself?"),
        "notice period terminate termination renewal renew non-renewal written days term",
    ),
    "Termination For Convenience": (
        ("Can we walk away from {doc} without giving a reason?",
         "Can either side just get out of {doc} early whenever they want?"),
        "termination terminate terminated convenience cause notice",
    ),
    "Post-Termination Services": (
        ("What do they still have to do for us once {doc} is over?",
         "After {doc} ends, is anyone still on the hook to keep helping or supplying?"),
        "termination terminate post services service transition wind effect expiration survival",
    ),
    "Anti-Assignment": (
        ("Can one side hand {doc} over to another company?",
         "Are they allowed to pass their side of {doc} on to someone else?"),
        "assignment assign assigned assignable anti transfer transferred delegate delegation consent",
    ),
    "Change Of Control": (
        ("What happens under {doc} if one side gets bought by another company?",
         "If the company is sold or taken over, does {doc} still hold?"),
        "change control merger merge acquisition acquire acquired consolidation assignment",
    ),
    "License Grant": (
        ("What are they allowed to use under {doc}, and how?",
         "What permission to use our stuff does {doc} give?"),
        "license licence licensed licenses grant granted grants",
    ),
    "Non-Transferable License": (
        ("Can the permission to use things under {doc} be passed on to someone else?",
         "Is the right to use it under {doc} only for them, or can they hand it to others?"),
        "license licensed transferable transfer non sublicense sublicensable assign assignable",
    ),
    "Affiliate License-Licensee": (
        ("Can the sister companies of whoever receives the rights use them too, under {doc}?",
         "Do related companies in the user's group get to use it too, under {doc}?"),
        "affiliate affiliates license licensee licensed subsidiaries subsidiary grant",
    ),
    "Affiliate License-Licensor": (
        ("Do the companies related to the side giving permission also let them use their things, under {doc}?",
         "Does the owner's group of companies hand over rights as well, under {doc}?"),
        "affiliate affiliates license licensor licensed subsidiaries subsidiary grant",
    ),
    "Irrevocable Or Perpetual License": (
        ("Can the permission to use it under {doc} ever be taken back, or does it last forever?",
         "Is the right to use things under {doc} permanent?"),
        "irrevocable perpetual perpetuity license licensed grant revoke revocable",
    ),
    "Unlimited/All-You-Can-Eat-License": (
        ("Can they use as much of it as they want, with no count, under {doc}?",
         "Can they make as many copies or have as many users as they like under {doc}?"),
        "unlimited license licensed grant enterprise",
    ),
    "Ip Ownership Assignment": (
        ("Who ends up holding the ideas and creations made under {doc}?",
         "Does whatever they invent or create for us under {doc} become ours?"),
        "intellectual property ownership owner own owns owned assign assignment assigns title",
    ),
    "Joint Ip Ownership": (
        ("If both sides create something together under {doc}, who does it belong to?",
         "Do we both hold whatever gets invented between us under {doc}?"),
        "joint jointly intellectual property ownership owner own owned co",
    ),
    "Non-Disparagement": (
        ("Does {doc} stop either side from badmouthing the other?",
         "Are they allowed to say bad things about us in public under {doc}?"),
        "disparagement disparage disparaging non negative derogatory statements",
    ),
    "Covenant Not To Sue": (
        ("Does {doc} stop one side from taking the other to court?",
         "Have they promised never to bring a case against us under {doc}?"),
        "covenant sue suit claim claims challenge contest release",
    ),
    "Third Party Beneficiary": (
        ("Can outsiders who didn't sign {doc} hold anyone to it?",
         "Does {doc} give anything to people other than the companies that signed it?"),
        "third party parties beneficiary beneficiaries benefit",
    ),
    "Audit Rights": (
        ("Can we check their numbers and paperwork under {doc}?",
         "Are we allowed to look over their accounts to make sure they paid right under {doc}?"),
        "audit audits auditing inspect inspection records books examine",
    ),
    "Insurance": (
        ("What protection must they pay for in case something goes wrong or someone gets hurt, under {doc}?",
         "Who has to pay to protect against claims if a person is injured or property is damaged under {doc}?"),
        "insurance insure insured insurer coverage policy policies liability",
    ),
    "Exclusivity": (
        ("Under {doc}, are we the only ones they can deal with?",
         "Can they also do business with our rivals, or just us, under {doc}?"),
        "exclusive exclusivity exclusively sole solely",
    ),
    "Non-Compete": (
        ("Does {doc} stop them from opening a rival business?",
         "Can they go work for or start a business like ours under {doc}?"),
        "compete competition competing competitive non noncompetition restrictive covenant",
    ),
    "Competitive Restriction Exception": (
        ("Is there anything they may still do despite the ban on dealing with rivals under {doc}?",
         "When may they still sell products like the ones covered by {doc}?"),
        "competitive compete competition restriction restrictions exception exceptions exclusive",
    ),
    "No-Solicit Of Customers": (
        ("Can they try to steal our buyers under {doc}?",
         "Are they barred from going after the people we sell to under {doc}?"),
        "solicit solicitation non customers customer clients client",
    ),
    "No-Solicit Of Employees": (
        ("Can they poach our staff under {doc}?",
         "Are they allowed to lure away our workers under {doc}?"),
        "solicit solicitation non employees employee hire hiring personnel employ",
    ),
    "Rofr/Rofo/Rofn": (
        ("Do we get the chance to match a deal before they sell to someone else under {doc}?",
         "Must they come to us before anyone else if they want to sell, under {doc}?"),
        "right rights first refusal offer negotiation negotiate rofr rofo",
    ),
    "Cap On Liability": (
        ("What is the most they could have to pay us if things go wrong under {doc}?",
         "Is there a ceiling on how much either side owes if something goes wrong under {doc}?"),
        "cap capped liability liable limitation limit limited damages aggregate exceed",
    ),
    "Uncapped Liability": (
        ("Are there cases where there's no ceiling on what they'd owe under {doc}?",
         "Could someone have to pay without any upper bound under {doc}?"),
        "uncapped unlimited cap liability liable limitation limit damages exclusion",
    ),
    "Warranty Duration": (
        ("How long are they on the hook if the product turns out faulty under {doc}?",
         "For how long do they promise things will work properly under {doc}?"),
        "warranty warranties warrant warrants duration period defects defective",
    ),
    "Minimum Commitment": (
        ("Is there a least amount they must buy under {doc}?",
         "Do they have to take at least some set quantity under {doc}?"),
        "minimum commitment commit purchase purchases requirement requirements",
    ),
    "Volume Restriction": (
        ("Is there a ceiling on how much can be bought or used under {doc}?",
         "Under {doc}, is there a most they can take or make?"),
        "volume restriction restrictions limit limitation maximum cap",
    ),
    "Most Favored Nation": (
        ("Does {doc} promise we never pay more than anyone else does?",
         "If they give someone else a better deal, do we get it too under {doc}?"),
        "favored favoured nation mfn favorable pricing terms",
    ),
    "Revenue/Profit Sharing": (
        ("Do we get a cut of the money they make under {doc}?",
         "How is the money coming in split between the sides under {doc}?"),
        "revenue revenues profit profits sharing share royalty royalties",
    ),
}


# A third wording per category, written after the lexicon (rag/ask/data/plain_terms.json)
# was last tuned and never used to tune it: how far the lexicon carries to words it was
# not fitted on (the ``plain_fresh`` phrasing). Same rule: no word of the category's list.
PLAIN_FRESH: dict[str, str] = {
    "Governing Law": "If we ever had to sue over {doc}, whose legal rules would the judge follow?",
    "Expiration Date": "Until what point in time is {doc} in effect?",
    "Renewal Term": "Once {doc} reaches its end, does it carry on for another stretch?",
    "Notice Period To Terminate Renewal": "What's the deadline to say we don't want {doc} to continue?",
    "Termination For Convenience": "Could we cancel {doc} even if they've done nothing wrong?",
    "Post-Termination Services": "Do they have to keep supporting us for a while after {doc} finishes?",
    "Anti-Assignment": "Could they sell their position in {doc} to a different firm without asking us?",
    "Change Of Control": "If someone buys out the other company, what does {doc} say happens?",
    "License Grant": "What exactly are we permitted to do with their technology under {doc}?",
    "Non-Transferable License": "Could they give the usage rights from {doc} to a different business?",
    "Affiliate License-Licensee": "Are companies owned by the same parent allowed to use what {doc} provides?",
    "Affiliate License-Licensor": "Do companies related to the owner also give permission under {doc}?",
    "Irrevocable Or Perpetual License": "Once given, can the usage rights under {doc} be cancelled later?",
    "Unlimited/All-You-Can-Eat-License": "Is there any cap on how many people can use the product under {doc}?",
    "Ip Ownership Assignment": "Who keeps the patents and designs that come out of {doc}?",
    "Joint Ip Ownership": "Is what we develop together under {doc} shared between both companies?",
    "Non-Disparagement": "Are we forbidden from criticising them publicly under {doc}?",
    "Covenant Not To Sue": "Did either side give up the ability to file a lawsuit under {doc}?",
    "Third Party Beneficiary": "Can a company that isn't part of {doc} enforce its promises?",
    "Audit Rights": "Can we send an accountant to go through their figures under {doc}?",
    "Insurance": "What cover do they need to carry in case of accidents under {doc}?",
    "Exclusivity": "Can they sell the same thing through other distributors while {doc} runs?",
    "Non-Compete": "Are they banned from selling products that go up against ours under {doc}?",
    "Competitive Restriction Exception": "What are the carve-outs to the ban on rival products in {doc}?",
    "No-Solicit Of Customers": "May they go directly to the people who buy from us under {doc}?",
    "No-Solicit Of Employees": "Can they offer jobs to people who work for us under {doc}?",
    "Rofr/Rofo/Rofn": "If they decide to sell, do we get to look before outsiders do under {doc}?",
    "Cap On Liability": "Is there a maximum amount we could get back from them under {doc}?",
    "Uncapped Liability": "In which situations is there no maximum on what they'd have to pay under {doc}?",
    "Warranty Duration": "How long is the guarantee on what they deliver under {doc}?",
    "Minimum Commitment": "Do we have to order a set quantity every year under {doc}?",
    "Volume Restriction": "Is there a top number of units they're allowed to order under {doc}?",
    "Most Favored Nation": "Will we always get their cheapest deal under {doc}?",
    "Revenue/Profit Sharing": "What percentage of sales goes to each side under {doc}?",
}
