"""The answer contract shared by the CLI (`ask --json`), the API and the chat."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from assistant import messages


class CitationOut(BaseModel):
    n: int = Field(description="Citation number as used in the answer text, e.g. [1].")
    doc_id: str
    title: str
    topic: str
    lang: Literal["de", "en"]
    url: str
    text: str = Field(description="The cited passage, verbatim.")
    section: str = ""


class EnquiryAnswer(BaseModel):
    """One question of an enquiry with its own answer; citation numbers are the enquiry's."""

    question: str = Field(description="The question as it stands in the enquiry.")
    answer: str = Field(description="The answer, or one sentence saying the sources do not cover it and where to ask.")
    refused: bool
    citations: list[CitationOut] = Field(default_factory=list)


class AskResult(BaseModel):
    answer: str
    language: Literal["de", "en"]
    refused: bool
    more: str = Field(
        "",
        description="'More on this': further cited sentences about the topic, after the answer (collapsed in the "
        "chat); citation numbers as in `answer`.",
    )
    citations: list[CitationOut] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    smalltalk: bool = Field(
        False,
        description="A fixed reply to a greeting, thanks, goodbye or a request for the other language: "
        "nothing was asked of the sources, so nothing was refused either.",
    )
    mode: Literal["llm", "extractive", "smalltalk"] = Field(
        "extractive",
        description="Who wrote the answer: the LLM, the extractive answerer, or a fixed reply to small talk "
        "(then `smalltalk` is true and `refused` false).",
    )
    fallback_reason: str | None = Field(None, description="Why a configured LLM's answer was not used.")
    notes: list[str] = Field(default_factory=list, description="Remarks for the user, e.g. that the question was cut.")
    questions: list[EnquiryAnswer] = Field(
        default_factory=list,
        description="For an enquiry (several questions, or a long message): each question with its answer; "
        "empty for a single question.",
    )
    draft_reply: str | None = Field(
        None, description="For an enquiry: a formal reply built only from the cited sentences, marked as a draft."
    )


_NO_IMAGES = re.compile(r"!\[")


def answer_markdown(result: AskResult, more_inline: bool = True) -> str:
    """The answer with its notes, "more on this" and numbered sources as Markdown (chat and OpenAI-compatible
    clients). With `more_inline` false only the heading of "more on this" is written: the chat shows the part
    itself behind that name, collapsed, as an element."""
    lang = result.language
    parts = [result.answer, *(f"_{note}_" for note in result.notes)]
    if result.more:
        heading = messages.text(lang, "more_heading")
        parts.append(f"**{heading}**\n\n{result.more}" if more_inline else heading)
    if result.citations:
        heading = messages.text(lang, "sources_heading")
        parts.append(
            f"**{heading}**\n" + "\n".join(f"[{c.n}] [{c.title}]({c.url}) – {c.section}" for c in result.citations)
        )
    # An image in Markdown would make the browser fetch it; quoted text is shown, never loaded from elsewhere.
    return _NO_IMAGES.sub(r"!\\[", "\n\n".join(p for p in parts if p))
