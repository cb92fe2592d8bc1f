"""Enquiries: an e-mail with several questions, answered question by question, with a draft reply.

A message is an enquiry when it is longer than a short question (ENQUIRY_MIN_WORDS words), or asks more
than one question with context around them (salutation, signature, background); two short questions alone
are a two-part question, answered part by part by the ordinary composer.

An enquiry's salutation, closing and signature are left out; sentences that ask something (a question mark,
or an indirect lead-in such as "Ich würde gern wissen, ob …") are the questions; everything else is background,
used to find the cluster ("we build hearing aids") but never quoted back. Whether the sources cover a question
is judged on the question itself (and the one before it); a covered question is then answered by the ordinary
stages with the cluster the background describes (or, when none is clear, the background) as its context, so
the composer puts the fact asked for first. A question the
sources do not cover gets one sentence saying so and where to ask.
The draft reply is built only from the answers' cited sentences and their sources' links.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from assistant import messages
from assistant.letters import SALUTATION, sender_name, signature_start
from assistant.schema import AskResult, CitationOut, EnquiryAnswer
from assistant.sentences import split_sentences

_WORD = re.compile(r"\w+")
_MARKER = re.compile(r"\s?\[(\d+)\]")
# Indirect questions: a sentence that asks without a question mark
_INDIRECT = re.compile(
    r"\b(?:(?:ich|wir)\s+(?:würden?|möchten?|wüssten?)\s+(?:\w+\s+){0,2}(?:wissen|erfahren|fragen)|"
    r"(?:würden?|möchten?|wüssten?)\s+(?:ich|wir)\s+(?:\w+\s+){0,2}(?:wissen|erfahren|fragen)|"  # "Gern würde ich …"
    r"(?:mich|uns)\s+(?:interessier(?:t|en)|würde\s+(?:\w+\s+){0,2}interessieren)|"
    r"interessier(?:t|en)\s+(?:mich|uns)|"  # "Außerdem interessiert mich, …"
    r"(?:können|könnten|würden)\s+sie\s+(?:mir\s+|uns\s+)?(?:\w+\s+){0,3}(?:sagen|mitteilen|nennen|erklären)|"
    r"bitte\s+(?:teilen|sagen|nennen)\s+sie|"
    r"i(?:'d|\s+would)\s+(?:like|love)\s+to\s+(?:know|learn|find\s+out)|we(?:'d|\s+would)\s+like\s+to\s+know|"
    r"(?:could|can|would)\s+you\s+(?:please\s+)?(?:tell|let|explain|advise)|please\s+(?:tell|let)\s+(?:me|us)|"
    r"i(?:'m|\s+am)\s+(?:wondering|curious)|i\s+wonder)\b",
    re.I,
)
_CONTACT = re.compile(r"@|\+?\d[\d /()-]{6,}\d|\b(?:tel|fon|phone|mobil|mobile|fax|www\.)\b", re.I)


@dataclass
class Enquiry:
    """What an enquiry consists of: the questions, the background, and whom to address."""

    questions: list[str]
    background: list[str] = field(default_factory=list)
    sender: str | None = None


def as_enquiry(text: str, min_words: int) -> Enquiry | None:
    """The text read as an enquiry if it is one: longer than a short question (`min_words` words), or more than
    one question with context around them (a salutation, a signature or a background sentence). Two short
    questions alone are a two-part question, which the ordinary composer already answers part by part."""
    enquiry = read(text)
    if len(_WORD.findall(text)) > min_words:
        return enquiry
    context = enquiry.background or enquiry.sender or SALUTATION.match(text)
    return enquiry if len(enquiry.questions) >= 2 and context else None


def is_enquiry(text: str, min_words: int) -> bool:
    return as_enquiry(text, min_words) is not None


def _asks(sentence: str) -> bool:
    return sentence.rstrip().endswith("?") or bool(_INDIRECT.search(sentence))


def read(text: str) -> Enquiry:
    """Split an enquiry into its questions and background; salutation, closing and signature are dropped."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    end = signature_start(lines)
    sender = sender_name(lines)
    body = lines[:end] if end is not None else lines
    if body and SALUTATION.match(body[0]):
        first = body[0]
        comma = first.find(",")  # "Hallo, wir sind …": only the salutation goes
        body = ([first[comma + 1 :].strip()] if 0 <= comma < len(first) - 1 else []) + body[1:]
    questions: list[str] = []
    background: list[str] = []
    for sentence in split_sentences(" ".join(line for line in body if line)):
        if _CONTACT.search(sentence) and not _asks(sentence):
            continue  # contact details are no background
        (questions if _asks(sentence) else background).append(sentence)
    if not questions and background:  # a long request without a question mark is one question
        questions, background = [" ".join(background)], []
    return Enquiry(questions=questions, background=background, sender=sender)


AnswerOne = Callable[[str, list[str], str], Awaitable[AskResult]]


class EnquiryAnswerer:
    """Answers each question of an enquiry with `answer_one(question, history, language)`."""

    def __init__(
        self,
        answer_one: AnswerOne,
        detect_language: Callable[[str, str | None], str],
        cluster_of: Callable[[str], str | None] = lambda background: None,
    ) -> None:
        self.answer_one = answer_one
        self.detect_language = detect_language
        self.cluster_of = cluster_of  # the cluster a described business belongs to, named as the corpus names it

    async def answer(self, enquiry: Enquiry, text: str, language: str | None, fallback: str | None) -> AskResult:
        lang = language if language in ("de", "en") else self.detect_language(text, fallback)
        background = " ".join(enquiry.background)
        cluster = self.cluster_of(background)
        # The background's job is to say which cluster "our sector" is: once a cluster is found, its name is the
        # context (short, so cheap to embed); without one the background itself is. The same context for every
        # question, so it is embedded once.
        context = f"{cluster}." if cluster else background
        results: list[tuple[str, AskResult]] = []
        for n, question in enumerate(enquiry.questions):
            previous = enquiry.questions[n - 1] if n else ""
            # Whether the sources cover a question is judged on the question itself (with the one before it, which
            # it may refer to): a background close to a cluster must not carry an unrelated question through.
            alone = await self.answer_one(question, [previous] if previous else [], lang)
            if alone.refused or not context:
                results.append((question, alone))
                continue
            results.append((question, await self.answer_one(question, [context], lang)))
        return combine(enquiry, results, lang)


def _renumber(result: AskResult, numbers: dict[tuple[str, str], int], cited: list[CitationOut]) -> tuple[str, list]:
    """The answer with its citation numbers changed to the enquiry's, and the citations it uses."""
    local = {c.n: c for c in result.citations}
    used: list[CitationOut] = []

    def swap(match: re.Match[str]) -> str:
        citation = local.get(int(match.group(1)))
        if citation is None:
            return ""
        key = (citation.doc_id, citation.text)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            cited.append(citation.model_copy(update={"n": numbers[key]}))
        global_citation = cited[numbers[key] - 1]
        if global_citation not in used:
            used.append(global_citation)
        return f" [{numbers[key]}]"

    return _MARKER.sub(swap, result.answer), used


def combine(enquiry: Enquiry, results: list[tuple[str, AskResult]], lang: str) -> AskResult:
    """One result: each question with its answer (or the sentence declining it), and the draft reply."""
    answered = [r for _, r in results if not r.refused and not r.smalltalk]
    if not answered:  # nothing asked is in the sources: refused as a whole, like any out-of-scope question
        refusal = next((r for _, r in results if r.refused), None)
        text = refusal.answer if refusal else messages.text(lang, "refusal")
        return AskResult(
            answer=text,
            language=lang,
            refused=True,
            questions=[EnquiryAnswer(question=q, answer=r.answer, refused=True, citations=[]) for q, r in results],
        )
    numbers: dict[tuple[str, str], int] = {}
    cited: list[CitationOut] = []
    parts: list[EnquiryAnswer] = []
    for question, result in results:
        if result.refused or result.smalltalk:
            parts.append(
                EnquiryAnswer(
                    question=question, answer=messages.text(lang, "enquiry_declined"), refused=True, citations=[]
                )
            )
            continue
        answer, used = _renumber(result, numbers, cited)
        gaps = " ".join(f"_{note}_" for note in result.notes)  # what the sources do not say, with its question
        parts.append(
            EnquiryAnswer(question=question, answer=f"{answer.strip()} {gaps}".strip(), refused=False, citations=used)
        )
    body = "\n\n".join(f"**{p.question}**\n\n{p.answer}" for p in parts)
    return AskResult(
        answer=body,
        language=lang,
        refused=False,
        citations=cited,
        questions=parts,
        draft_reply=draft_reply(enquiry, parts, lang),
    )


def _plain(answer: str) -> str:
    """An answer's text for a letter: citation numbers removed, list items kept as lines."""
    return _MARKER.sub("", answer).replace("**", "").replace("_", "").strip()


def draft_reply(enquiry: Enquiry, parts: list[EnquiryAnswer], lang: str) -> str:
    """A formal reply (salutation, one paragraph per question, the sources' links, closing), marked as a draft."""
    salutation = (
        messages.text(lang, "draft_salutation_named", name=enquiry.sender)
        if enquiry.sender
        else messages.text(lang, "draft_salutation")
    )
    paragraphs = [messages.text(lang, "draft_mark"), salutation, messages.text(lang, "draft_thanks")]
    for part in parts:
        lead = messages.text(lang, "draft_question", question=part.question.rstrip("?").strip())
        if part.refused:
            paragraphs.append(f"{lead} {part.answer}")
            continue
        links = sorted({c.url for c in part.citations})
        sources = messages.text(lang, "draft_sources", links=", ".join(links))
        paragraphs.append(f"{lead}\n{_plain(part.answer)}\n{sources}")
    paragraphs.append(messages.text(lang, "draft_closing"))
    return "\n\n".join(paragraphs)
