"""The prepare stage: clean the question, tell its language, and answer what needs no search.

Empty input and small talk ("Hallo", "Danke!") get their reply here; a request for the other language
("auf Englisch, bitte") asks the previous question again in that language. Everything else goes on to the
understand stage with its language and the notes the user should see (the question was cut, it was in
another language).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence

from assistant import messages
from assistant.input_policy import clean_question, has_word
from assistant.language import FUNCTION_WORDS, detect_language, is_other_language, vocabulary_vote
from assistant.lexical import normalize
from assistant.replies import fixed_reply
from assistant.scope import ANSWER_FORM, GENERIC_GROUPS, Vocabulary
from assistant.settings import Settings
from assistant.smalltalk import SmallTalkPatterns
from assistant.turn import Turn

# lingua may call a string of German keywords Dutch: a question counts as another language only when most of
# its words are unknown to our German and English corpus too
OTHER_LANGUAGE_UNKNOWN_SHARE = 0.5


# a request about the answer's form ("Bitte kurz.", "Explain in simple words:") is a sentence or a part before a
# colon made only of words about the answer's form and these light words; it is no part of what to search for
_PART = re.compile(r"[^.?!;:\n]+[.?!;:\n]*")
_LIGHT = frozenset(
    "in one ein einem einer einen mit with nur only so as and und plain my mir me dich dir it es".split()
    + GENERIC_GROUPS["fillers and quantity words"].split()
)
_ASKING = frozenset(GENERIC_GROUPS["question words"].split())  # "Warum kurz?" asks something


def without_form_requests(question: str) -> str:
    """The question without sentences that only ask for a form of answer ("Welche Cluster gibt es? Bitte kurz."):
    people add them to a question, and their words pulled retrieval and the scope check away from it. A message
    that is nothing but such a request stays as it is."""
    parts = _PART.findall(question)
    kept = [part for part in parts if not _asks_for_form_only(part)]
    text = "".join(kept).strip()
    return text if len(kept) < len(parts) and has_word(text) else question


def _asks_for_form_only(part: str) -> bool:
    if part.rstrip().endswith("?"):  # "Ist es einfach?" is a question of its own
        return False
    tokens = [t for t in re.findall(r"\w+", normalize(part)) if not t.isdigit()]
    rest = [t for t in tokens if t not in ANSWER_FORM and t not in _LIGHT and t not in FUNCTION_WORDS]
    asks = any(t in _ASKING for t in tokens)
    return bool(tokens) and not rest and not asks and any(t in ANSWER_FORM for t in tokens)


class Preparer:
    """Builds the Turn from what the user sent."""

    def __init__(
        self,
        settings: Settings,
        smalltalk: SmallTalkPatterns,
        vocabulary: Vocabulary,
        words_by_lang: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.settings = settings
        self.smalltalk = smalltalk
        self.vocabulary = vocabulary
        self.words_by_lang = words_by_lang or {}

    def __call__(
        self,
        question: str,
        history: Sequence[str],
        language: str | None = None,
        fallback_language: str | None = None,
        truncated: bool = False,
    ) -> Turn:
        s = self.settings
        question, cut = clean_question(question, s.max_question_chars)
        earlier = [h for h in (clean_question(h, s.max_question_chars)[0] for h in history) if h]
        earlier = [h for h in earlier if not self.smalltalk.match(h)]  # "Danke!" is no context
        turn = Turn(question=question, history=earlier[-s.history_turns :] if s.history_turns else [])
        chat = self.smalltalk.match(question)
        if chat and chat.kind == "language" and turn.history:
            turn.redo = (turn.history[-1], turn.history[:-1], chat.lang or s.default_language)
            return turn
        message = question  # the whole message tells the language, greetings and thanks included
        if not chat:  # "Hallo, welche Cluster ...?": the greeting is no part of the question
            turn.question = without_form_requests(self.smalltalk.strip(question))

        t = time.perf_counter()
        other_language = (
            language not in ("de", "en")
            and is_other_language(turn.question)
            and self.vocabulary.check(turn.question).unknown_share > OTHER_LANGUAGE_UNKNOWN_SHARE
        )
        turn.lang = "en" if other_language else self.language(message, turn.history, language, fallback_language)
        turn.timed("language", t)
        if cut or truncated:
            turn.notes.append(messages.text(turn.lang, "question_truncated", limit=s.max_question_chars))
        if other_language:  # e.g. French: answered in English, and the user is told why
            turn.notes.append(messages.text("en", "other_language_note"))
        if not has_word(turn.question):  # empty, only digits and punctuation ("???"), or no word of two letters
            turn.reply = fixed_reply(turn, "empty_question", refused=True)
        elif chat:  # "Hallo", "Danke!", "bye": a friendly reply, not a search that ends in "nothing found"
            forced = language if language in ("de", "en") else None
            turn.lang = (chat.lang if chat.kind == "language" else forced or chat.lang) or turn.lang
            turn.reply = fixed_reply(turn, f"smalltalk_{chat.kind}", smalltalk=True)
        return turn

    def language(self, question: str, history: Sequence[str], requested: str | None, fallback: str | None) -> str:
        """Asked for, else the question's, else the conversation's, else the browser's, else DEFAULT_LANGUAGE."""
        if requested in ("de", "en"):
            return requested
        for text in (question, *reversed(history)):
            lang = detect_language(text) or vocabulary_vote(text, self.words_by_lang)
            if lang:
                return lang
        return fallback if fallback in ("de", "en") else self.settings.default_language
