"""Requests that no source about a policy can answer, however close their words come to it.

A city's chat is asked for things that change by the hour (open positions, share prices, which ships arrive
today) and for decisions only the asker can make ("Soll ich …?", "Should I invest …?"). Such a question names the
same companies, places and sectors as the corpus, so its passages look relevant; what it asks for is never in
them. These requests are recognised by their grammar and by a closed class of words for live data, and refused
with a reply that says why and where to ask. Nothing here knows a cluster, a company or a question of any set.
"""

from __future__ import annotations

import re

from assistant.lexical import normalize

LIVE, ADVICE = "live", "advice"

# what changes by the hour or day: vacancies and hiring, prices of shares
_LIVE_ALWAYS = (
    r"offene[nr]? (?:stellen?|positionen)|stellenangebot\w*|stellenanzeige\w*|stellenausschreibung\w*|"
    r"freie stellen?|job ?openings?|open positions?|vacanc(?:y|ies)|(?:is|are) \S+(?: \S+){0,3} hiring|"
    r"hiring (?:right )?now|aktienkurs\w*|börsenkurs\w*|\w+-aktie|aktie (?:von|der|des)|share price\w*|"
    r"stock price\w*"
)
_STAFF = (
    r"ingenieur\w*|mitarbeite\w*|leute|personal|azubis?|auszubildende\w*|fachkräfte|arbeitskräfte|"
    r"entwickler\w*|techniker\w*|mechaniker\w*"
)
# arrivals, departures and hiring ("Sucht X gerade …?") are live only when asked for a moment ("heute", "right
# now"), not for a year's figure
_EVENTS = (
    r"einlaufen|(?:laufen|läuft)\b[^.?!]*\bein(?= ?[.?!]|$)|(?:kommen|kommt)\b[^.?!]*\ban(?= ?[.?!]|$)|"
    r"(?:stellt|stellen)\b[^.?!]*\bein(?= ?[.?!]|$)|ankommen|arriv\w*|depart\w*|abfahr\w*|anleg\w*|dock\w*|"
    rf"recruit\w*|hiring|^(?:sucht|suchen)\b[^.?!]*\b(?:{_STAFF})"
)
_MOMENT = r"heute|today|tonight|gerade|jetzt|right now|at the moment|this week|diese woche|morgen|tomorrow"
_PERIOD = r"jährlich|pro jahr|im jahr|jahr für jahr|annually|per year|a year|each year|every year"
# a decision asked of the assistant: "Soll ich …?", "Should I …?", "Welcher Weg ist besser für mich?"
_ADVICE = (
    r"^(?:und |and |also |so )?(?:soll|sollte|sollen) (?:ich|wir)\b|^(?:und |and |so )?(?:should|shall) (?:i|we)\b|"
    r"(?:do you think|meinen sie|meinst du|finden sie)(?: that| dass)? (?:i|we|ich|wir) should|"
    r"(?:besser|sinnvoller|empfehlenswert) für (?:mich|uns)|(?:better|best|wiser) for (?:me|us)|"
    r"(?:würden|würdest|können|könnten|kannst) (?:sie|du) mir (?:raten|empfehlen)|"
    r"(?:would|do|can|could) you (?:recommend|advise)|lohnt (?:es )?sich (?:das )?für (?:mich|uns)|"
    r"worth it for (?:me|us)"
)
# but asking whom to turn to, where to look or how to join is asking for information the sources hold
_INFORMATION = (
    r"wende\w*|melde\w*|anmelde\w*|kontakt\w*|beitret\w*|beitreten|mitglied|ansprechpartner\w*|informationen|"
    r"(?:raten|empfehlen|recommend|advise)\w*,? (?:wo|wie|wen|wer|welche\w*|where|how|who|which|whom)|"
    r"contact\w*|turn to|get in touch|reach out|join|member\w*|information"
)
_LIVE_RE = re.compile(rf"(?<!\w)(?:{_LIVE_ALWAYS})(?!\w)")
_EVENT_RE = re.compile(rf"(?<!\w)(?:{_EVENTS})(?!\w)")
_MOMENT_RE = re.compile(rf"(?<!\w)(?:{_MOMENT})(?!\w)")
_PERIOD_RE = re.compile(rf"(?<!\w)(?:{_PERIOD})(?!\w)")
_ADVICE_RE = re.compile(_ADVICE)
_INFORMATION_RE = re.compile(rf"(?<!\w)(?:{_INFORMATION})(?!\w)")
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")


def request_kind(question: str) -> str | None:
    """LIVE when the question asks for data that changes by the hour or day, ADVICE when it asks the assistant to
    decide for the asker; None for a question the sources may answer. A message asking several things is such a
    request only when each of them is ("Soll ich X tun? Was kostet X?" gets its second question answered)."""
    kinds = [_kind_of(sentence.strip()) for sentence in _SENTENCE.findall(normalize(question)) if sentence.strip()]
    if not kinds or None in kinds:
        return None
    return LIVE if LIVE in kinds else ADVICE


def _kind_of(text: str) -> str | None:
    """The request kind of one sentence (normalised)."""
    if _LIVE_RE.search(text):
        return LIVE
    if _EVENT_RE.search(text) and _MOMENT_RE.search(text) and not _PERIOD_RE.search(text):
        return LIVE
    if _ADVICE_RE.search(text) and not _INFORMATION_RE.search(text):
        return ADVICE
    return None
