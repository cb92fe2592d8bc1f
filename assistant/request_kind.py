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

# what changes by the hour or day: vacancies and hiring, prices of shares, arrivals and departures
_LIVE_ALWAYS = (
    r"offene[nr]? stellen?|stellenangebot\w*|stellenanzeige\w*|stellenausschreibung\w*|freie stellen?|"
    r"job ?openings?|vacanc(?:y|ies)|(?:is|are) \S+(?: \S+){0,3} hiring|hiring (?:right )?now|"
    r"aktienkurs\w*|börsenkurs\w*|\w+-aktie|aktie (?:von|der|des)|share price\w*|stock price\w*|"
    r"fahrplan\w*|timetables?"
)
# arrivals, queues and the like are live only when asked for a moment ("heute", "right now")
_EVENTS = (
    r"einlaufen|ankommen|(?:laufen|läuft|kommen|kommt|stellt|stellen)\b[^.?!]*\b(?:ein|an)(?= ?[.?!]|$)|"
    r"arriv\w*|depart\w*|abfahr\w*|anleg\w*|dock\w*|sucht|suchen|recruit\w*|hiring"
)
_MOMENT = r"heute|today|tonight|gerade|jetzt|right now|at the moment|this week|diese woche|morgen|tomorrow"
# a decision asked of the assistant: "Soll ich …?", "Should I …?", "Was ist besser für mich?"
_ADVICE = (
    r"^(?:und |and |also |so )?(?:soll|sollte|würde) ich\b|^(?:und |and |so )?(?:should|shall) i\b|"
    r"(?:besser|sinnvoller|empfehlenswert) für mich|(?:better|best|wiser) for me|"
    r"(?:würden|würdest|können|könnten|kannst) (?:sie|du) mir (?:raten|empfehlen)|"
    r"(?:would|do|can|could) you (?:recommend|advise)|lohnt (?:es )?sich (?:das )?für mich|worth it for me"
)
_LIVE_RE = re.compile(rf"(?<!\w)(?:{_LIVE_ALWAYS})(?!\w)")
_EVENT_RE = re.compile(rf"(?<!\w)(?:{_EVENTS})(?!\w)")
_MOMENT_RE = re.compile(rf"(?<!\w)(?:{_MOMENT})(?!\w)")
_ADVICE_RE = re.compile(_ADVICE)
_SENTENCE = re.compile(r"[^.?!]+")


def request_kind(question: str) -> str | None:
    """LIVE when the question asks for data that changes by the hour or day, ADVICE when it asks the assistant to
    decide for the asker; None for a question the sources may answer."""
    text = normalize(question)
    if _LIVE_RE.search(text) or (_EVENT_RE.search(text) and _MOMENT_RE.search(text)):
        return LIVE
    if any(_ADVICE_RE.search(sentence.strip()) for sentence in _SENTENCE.findall(text)):
        return ADVICE
    return None
