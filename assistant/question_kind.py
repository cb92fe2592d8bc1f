"""What kind of fact a question asks for, and whether a sentence holds a fact of that kind.

A question's interrogative says what its answer must contain: "who" a person and role, "when" a date, "how
many" a number, "where" a place, "how can I" a way to do it, "what is" a definition. These words are a closed
class in German and English, so they are listed here once, by kind; nothing in this module knows a cluster,
a document or a question. The answerer uses `holds` as one feature of question-sentence fit, so that the
sentence with the asked kind of fact comes first when it is about as relevant as the others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.lexical import normalize

WHO, WHEN, HOW_MANY, WHERE, HOW_TO, WHAT_IS, YES_NO = "who", "when", "how_many", "where", "how_to", "what_is", "yes_no"
FUNDER = "funder"  # who pays for something: answered by a sentence saying who funds, finances or pays it
SHARE = "share"  # what part of a whole: answered by a percentage or fraction, not by any number
MONEY = "money"  # how much money: a number alone (staff, members) does not answer it, an amount in euros does
ACTIVITY = "activity"  # what an organisation does or works on: answered by the list of what it does
PURPOSE = "purpose"  # why, what for, the goal of something: answered by a sentence stating an aim
KINDS = (WHO, WHEN, FUNDER, SHARE, MONEY, HOW_MANY, WHERE, HOW_TO, WHAT_IS, ACTIVITY, PURPOSE, YES_NO)

# the roles through which people are named in an organisation (the answer to "who leads / runs / heads ...")
ROLES = (
    r"geschäftsführ\w*|leiter\w*|leitung|leitet\w*|vorsitz\w*|vorstand\w*|präsident\w*|sprecher\w*|chef\w*|"
    r"gründer\w*|gründungsgeschäftsführ\w*|direktor\w*|koordinator\w*|ansprechpartner\w*|"
    r"ceo|managing directors?|directors?|chair\w*|heads?|headed|leads (?!to)|led by|presidents?|spokes\w*|founders?|"
    r"managers?|coordinators?"
)

# offices that name one particular person of an organisation: a question naming one ("Wer ist Vorsitzender …?")
# asks for the holder of that office, not for any person in a role (the managing director is not the chair)
OFFICES = {
    "chair": r"\w*vorsitz\w*|chair\w*|präsident\w*|presidents?",
    "managing": r"\w*geschäftsführ\w*|managing directors?|ceo",
    "spokes": r"sprecher\w*|spokes\w*",
    "coordinator": r"koordinator\w*|coordinators?",
}

# nouns and verbs of an amount of money; "Förderung" in its sense of a sum, not "Förderverein" or "Fördermitglied"
_MONEY_NOUNS = (
    r"geld\w*|euros?|zuschuss\w*|zuschüsse\w*|förderung|fördersumme\w*|fördermittel\w*|fördergeld\w*|"
    r"förderbetrag\w*|umsatz\w*|umsätze|budget\w*|kosten|kostet|kostete|gekostet|mittel|etat|\w*beitrag\w*|"
    r"investiert\w*|investition\w*|verdien\w*|money|funding|funded|funds?|grants?|turnover|revenues?|budgets?|"
    r"costs?|subsid\w*|invest|invests|invested|investment|spent|spend|earn\w*|fee|fees"
)

# how each kind is asked; the first kinds win where two patterns overlap ("how can I" is a way, not a number).
# "What does X do / focus on" asks for activities, which no single kind of fact is, so it is no definition.
_ASKED: tuple[tuple[str, str], ...] = (
    (
        HOW_TO,
        r"wie (kann|können|könnte|bekomme|bekommt|erhalte|erhält|werde|wird man|melde|finde|komme|gehe|beantrage)"
        r"|was muss|an wen|wo kann|wohin kann|how (can|do|does|could|should|would|to)\b|where (can|do|should) (i|we)"
        r"|who (can|should|do) (i|we) (contact|ask|turn to)",
    ),
    (
        WHEN,
        # a date asked by comparing ages ("Was ist älter, X oder Y?") or by its noun ("das Gründungsjahr")
        r"(?:was|wer|welche[rsmn]?)(?: \w+){0,2} (?:ist|sind|war|waren) (?:\w+ ){0,2}(?:älter|jünger)"
        r"(?! als (?:\d|\w+ jahre))"
        r"|(?:what|which)(?: \w+){0,2} (?:is|was|are|were) (?:\w+ ){0,3}(?:older|newer|founding (?:year|date))"
        r"(?! than (?:\d|\w+ years))"
        r"|wie alt|how old"
        r"|wann|in welchem jahr|welches jahr|seit welchem|when|what year|which year|how long ago"
        r"|gründungsjahr\w*|gründungsdatum|jahreszahl|datum|founding (?:year|date)|year (?:it was |of )?found\w*",
    ),
    # who pays for something asks for the funder, not for a person in a role
    (
        FUNDER,
        r"wer (?:\w+ )?(?:finanziert|kofinanziert|bezahlt|zahlt|fördert|trägt die kosten)|von wem (?:\w+ ){0,6}"
        r"(?:finanziert|gefördert|bezahlt)|woher (?:kommt|kommen) (?:das|die) (?:geld|mittel)|"
        r"who (?:\w+ )?(?:funds|finances|co-finances|pays|paid|sponsors|is funding|is paying)|"
        r"by whom (?:\w+ ){0,6}(?:funded|financed|paid)|where does the (?:money|funding) come from",
    ),
    (WHO, r"wer|wem|wen|wessen|who|whom|whose"),
    # an amount asked for beside a noun of money ("Wie viel Zuschuss …?", "How much funding …?"), or in euros
    (
        SHARE,
        r"anteil\w*|wie ?viel prozent|welche[rn]? teil|prozentsatz|\w+quote|what share|share of|proportion|"
        r"how (?:big|large) (?:a|is the) share|percentage|what percent|how many per ?cent",
    ),
    (
        MONEY,
        # the amount word and the noun of money in one clause: "Wie viele Projekte erhalten Förderung?" counts
        rf"(?:wie ?viel(?!e)|wie hoch|wie groß|how much|how high|how (?:big|large))"
        rf"(?: (?!und |and |oder |or )[^\s,;?]+){{0,6}}? (?:{_MONEY_NOUNS})|in euros?|was kostet\w*"
        # whether there is money for something ("Gibt es Geld für …?", "Can I get a grant …?") wants the sum
        r"|(?:gibt es|bekomme ich|bekommt man|kriege ich|kriegt man|erhalte ich|is there|are there|can i get|"
        r"do i get|could i get)(?: \S+){0,3}? (?:geld|zuschuss\w*|zuschüsse|fördergeld\w*|fördermittel\w*|money|"
        r"grants?|funding|subsid\w*)",
    ),
    (HOW_MANY, r"wie ?viele?|wieviel\w*|anzahl|wie groß|how many|how much|number of|how (big|large)"),
    (WHERE, r"wo|woher|wohin|where|in welche[rm] (stadt|ort|stadtteil|bezirk)|in which (city|district|part)"),
    (
        ACTIVITY,
        r"womit|woran|worüber|was (macht|machen|tut|tun)\b"
        r"|what (?:else )?(does|do|did) [^?]{0,60}\b(do|focus|work|deal|research)"
        r"|what (?:(?! that | who | which | die | der | das )[^?]){0,60}\b(focus|work|working) on",
    ),
    (
        PURPOSE,
        r"(?:was (?:ist|sind)|what (?:is|are)|what's) (?:\w+ ){0,3}(?:ziele?|zweck|aims?|goals?|purpose|objectives?)"
        r"|wozu|warum|weshalb|wieso|ziele?|zweck|why|what for|goals?|aims?|purpose|objectives?",
    ),
    (
        WHAT_IS,
        r"was (ist|sind|bedeutet|bedeuten|heißt|versteht)|wofür steht|wofür stehen"
        r"|what (is|are)\b|what's|what does \S+ mean|erklär\w*|explain|define|definition|bedeutung|meaning of",
    ),
)


def _folded(pattern: str) -> str:
    """A pattern for casefolded text, in which "ß" is "ss" ("wie groß" is matched as "wie gross")."""
    return pattern.replace("ß", "ss")


_ASKED_RE = [(kind, re.compile(rf"(?<!\w)(?:{_folded(pattern)})(?!\w)")) for kind, pattern in _ASKED]
# how people ask who is at the head of an organisation without naming the role ("Wer leitet …?", "Who runs …?")
_LEADING = re.compile(
    r"(?<!\w)(?:leit\w*|führt|führen|spitze|steht vor|runs?|running|leads?|leading|heads?|chairs?|manag\w*|"
    r"in charge|at the top|at the helm|boss\w*)(?!\w)"
)
_OFFICE_RE = {office: re.compile(rf"(?<!\w)(?:{_folded(p)})(?!\w)") for office, p in OFFICES.items()}
_ROLE_RE = re.compile(rf"(?<!\w)(?:{_folded(ROLES)})(?!\w)")
# a question opening with a finite verb asks yes or no ("Gibt es …?", "Is the port …?")
_YES_NO = re.compile(
    r"^(ist|sind|gibt|gab|hat|haben|hatte|kann|können|darf|dürfen|muss|müssen|soll|sollte|wird|werden|war|waren|"
    r"bietet|bieten|fördert|unterstützt|lohnt|is|are|does|do|did|can|could|has|have|had|were|will|would|"
    r"should|may|might)(?!\w)"
)

_YEAR = r"(?<!\d)(?:1[89]\d\d|20\d\d)(?!\d)"
_MONTHS = (
    r"januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|"
    r"january|february|march|june|july|october|december"
)
_NUMBER_WORDS = (
    r"zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|dreißig|hundert\w*|tausend\w*|dutzend\w*|"
    r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|hundreds?|thousands?|dozens?|"
    r"millionen|million|millions|milliarden|billion|billions|mio|mrd"
)
_PLACE = (
    r"\w+(straße|strasse|str\.|weg|platz|allee|damm|chaussee|ufer|kai|brücke|street|road|square)"
    r"|(?<!\d)2\d{4}(?!\d)|sitz\w*|sitzt|ansässig|befindet|liegt|seat|based|located|headquarter\w*|hamburg-\w+"
)
_WAY = (
    r"https?://\S+|www\.\S+|\S+@\S+\.\w+|können|kann|könnt|über|via|online|anmeld\w*|bewerb\w*|registr\w*|"
    r"kontakt\w*|melden|beantrag\w*|antrag\w*|teilnehm\w*|mitglied werden|can|may|apply|applications?|register\w*|"
    r"sign up|contact\w*|through|website|portal|join"
)
# an aim is stated with a modal of intent, a final clause or the nouns of aims ("… sollen Wissen zusammenführen")
_AIMS = (
    r"soll|sollen|sollte|sollten|ziel\w*|zweck|damit|um \w+(?: \w+){0,8} zu|are meant to|is meant to|aims?|aimed|"
    r"goals?|purpose|objectives?|so that|in order to|intended|designed to"
)
_DEFINES = r"ist|sind|war|waren|bezeichnet|bedeutet|heißt|steht für|is|are|was|were|means|refers to|stands for"

_AMOUNT = (
    rf"(?:\d[\d.,]*|{_NUMBER_WORDS})\s*(?:(?:millionen|million|millions|milliarden|billion|billions|mio|mrd)\.?\s*)?"
    r"(?:euros?|eur|€)"
)

# the verbs of paying for something (not the nouns: a title "… und Clusterfinanzierung" says nobody pays)
_FUNDS = (
    r"finanziert|finanzierte|finanzieren|kofinanziert|kofinanzierte|gefördert|fördert|förderte|bezahlt|bezahlte|"
    r"zahlt|zahlte|getragen|trägt|bewilligt|bewilligte|funds|funded|finances|financed|co-finances|co-financed|pays|"
    r"paid|sponsors|sponsored|granted|grants"
)

_PARTS_OF = (
    r"\d+(?:[.,]\d+)?\s?(?:%|prozent|per ?cent)|drittel|viertel|hälfte|fünftel|zehntel|third|thirds|quarter|"
    r"quarters|half|fifth|tenth|jede[rs]? (?:zweite|dritte|vierte|fünfte|sechste|siebte|achte|zehnte)[nrs]?|"
    r"one in (?:two|three|four|five|six|seven|eight|ten)|every (?:second|third|fourth|fifth|tenth)"
)

_HOLDS = {
    WHO: _ROLE_RE,
    WHEN: re.compile(rf"{_YEAR}|(?<!\w)(?:{_MONTHS})(?!\w)"),
    SHARE: re.compile(rf"(?<!\w)(?:{_folded(_PARTS_OF)})(?!\w)"),
    MONEY: re.compile(rf"(?<!\w)(?:{_folded(_AMOUNT)})(?!\w)|(?:€|(?<!\w)eur)\s?\d"),
    FUNDER: re.compile(rf"(?<!\w)(?:{_folded(_FUNDS)})(?!\w)"),
    HOW_MANY: re.compile(rf"(?<![\w.,])\d[\d.,]*(?![\w])|(?<!\w)(?:{_folded(_NUMBER_WORDS)})(?!\w)|\d+\s?%"),
    WHERE: re.compile(rf"(?<!\w)(?:{_folded(_PLACE)})(?!\w)"),
    HOW_TO: re.compile(rf"(?<!\w)(?:{_WAY})(?!\w)"),
    PURPOSE: re.compile(rf"(?<!\w)(?:{_AIMS})(?!\w)"),
}
_DEFINES_RE = re.compile(rf"(?<!\w)(?:{_folded(_DEFINES)})(?!\w)")
_YEAR_RE = re.compile(_YEAR)
DEFINITION_WINDOW = 12  # a definition names its term and "is" near the start: "Das MCN ist ein Verein …"


def kinds_asked(question: str) -> list[str]:
    """The kinds of fact a question asks for, in the order it asks them ("Wer leitet … und seit wann?")."""
    text = normalize(question)
    found: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    for kind, pattern in _ASKED_RE:
        for match in pattern.finditer(text):
            if not any(start < match.end() and match.start() < end for start, end in spans):  # "wie viele" ≠ "wie"
                found.append((match.start(), kind))
                spans.append(match.span())
    if not (_ROLE_RE.search(text) or _LEADING.search(text)):  # "Wer kann Mitglied werden?" asks for no role
        found = [(start, kind) for start, kind in found if kind != WHO]
    if not found and _ROLE_RE.search(text):  # "Geschäftsführerin der Logistik-Initiative?" asks for a person
        found.append((0, WHO))
    if not found and _YES_NO.match(text.lstrip("¿¡ ")):
        found.append((0, YES_NO))
    kinds: list[str] = []
    for _, kind in sorted(found):
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def offices_named(text: str) -> tuple[str, ...]:
    """The particular offices a question or sentence names ("chair", "managing", …), in OFFICES' order."""
    folded = normalize(text)
    return tuple(office for office, pattern in _OFFICE_RE.items() if pattern.search(folded))


def holds_office(offices: Sequence[str], sentence: str) -> bool:
    """Whether a sentence names one of the offices asked about (any person in a role, when none is asked)."""
    return not offices or bool(set(offices) & set(offices_named(sentence)))


# a date asked by an organisation's age ("Was ist älter …?", "wie alt", "Gründungsjahr", "founding year") asks when
# it was founded: the words of founding are terms a sentence holding that date names
_FOUNDING_ASKED = re.compile(
    _folded(
        r"(?<!\w)(?:älter|jünger|wie alt|gründungsjahr\w*|gründungsdatum|older|newer|how old|"
        r"founding (?:year|date)|year (?:it was |of )?found\w*)(?!\w)"
    )
)
_PERSONS_AGE = re.compile(r"\W*(?:wer|who)\b")
FOUNDING_WORDS = {"de": "gründung gegründet", "en": "founded founding"}


def founding_terms(question: str, lang: str) -> str:
    """The words of founding, when a question asks for a founding date by age or by its noun; else nothing."""
    text = normalize(question)
    if _PERSONS_AGE.match(text):  # "Wer ist jünger, …?" compares people
        return ""
    return FOUNDING_WORDS.get(lang, "") if _FOUNDING_ASKED.search(text) else ""


def without_asking(question: str) -> str:
    """The question without its interrogatives ("who", "wie viele"): they say what kind of fact is asked, they
    are no terms a sentence should contain."""
    text = normalize(question)
    for _, pattern in _ASKED_RE:
        text = pattern.sub(" ", text)
    return text


def _counts(sentence: str) -> bool:
    """A number that is not only a year: "rund 600 Unternehmen", "neun Cluster", "40 %"."""
    numbers = (match.group(0).rstrip(".,") for match in _HOLDS[HOW_MANY].finditer(sentence))
    return any(not _YEAR_RE.fullmatch(number) for number in numbers)


def holds(kind: str, sentence: str) -> bool:
    """Whether a sentence holds a fact of the asked kind (a role, a date, a number, a place, a way, a definition)."""
    text = normalize(sentence)
    if kind == HOW_MANY:
        return _counts(text)
    if kind == WHAT_IS:
        return bool(_DEFINES_RE.search(" ".join(text.split()[:DEFINITION_WINDOW])))
    if kind == ACTIVITY:  # the lead-in of a list of what is done ("… arbeitet an diesen Schwerpunkten:")
        return text.rstrip().endswith(":")
    pattern = _HOLDS.get(kind)
    return bool(pattern and pattern.search(text))


# a sentence that names the goal itself ("Ziel ist es …", "Das Ziel des Clusters …", "The aim is …"), not only a
# final clause ("…, damit …"): the nouns of aims, near the start
_AIM_NOUNS = re.compile(r"(?<!\w)(?:ziel|ziele|zweck|goal|goals|aim|aims|purpose|objective|objectives)(?![\w-])")
AIM_WINDOW = 6


def states_aim(sentence: str) -> bool:
    """Whether a sentence names an aim within its first AIM_WINDOW words: it says what the goal is."""
    return bool(_AIM_NOUNS.search(" ".join(normalize(sentence).split()[:AIM_WINDOW])))


def fit_of_kinds(kinds: Sequence[str], sentence: str) -> float:
    """Share of the asked kinds a sentence holds (yes/no questions ask for no particular kind)."""
    wanted = [kind for kind in kinds if kind != YES_NO]
    if not wanted:
        return 0.0
    return sum(holds(kind, sentence) for kind in wanted) / len(wanted)


def years_named(question: str) -> list[str]:
    """The years a question names ("… im Jahr 2020?"), to say when the sources have another year's figure."""
    return list(dict.fromkeys(_YEAR_RE.findall(question)))
