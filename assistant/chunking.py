"""Structure-aware chunking: one chunk per paragraph or list item, with its context.

Each chunk carries the document title and section heading, and list items carry
the sentence that introduces their list, so a bullet such as "Luftfahrt: neue
Materialien" is still understood on its own. Chunk ids are hashes of what gets
embedded, so re-indexing embeds only what changed.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import asdict, dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from assistant.corpus import SOURCE_MARKER, Document
from assistant.sentences import split_sentences

_MD = MarkdownIt("commonmark")


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage with everything needed to cite it."""

    id: str
    doc_id: str
    group: str  # id of the German original: a document and its translation share it
    position: int  # order of the chunk within its document
    lang: str
    topic: str
    title: str
    section: str
    url: str
    kind: str  # "paragraph" | "list_item" | "lead" (the sentence introducing a list)
    text: str
    context: str  # title, section and list lead-in, prepended for embedding and BM25
    list_id: str | None = None
    sentences: tuple[str, ...] = field(default_factory=tuple)

    @property
    def embed_text(self) -> str:
        return f"{self.context}\n{self.text}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["sentences"] = list(self.sentences)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Chunk:
        # titles, sections and list lead-ins repeat across many chunks: share one copy of each
        shared = {
            k: sys.intern(data[k])
            for k in ("doc_id", "group", "lang", "topic", "title", "section", "url", "kind", "context")
            if isinstance(data.get(k), str)
        }
        return cls(**{**data, **shared, "sentences": tuple(data.get("sentences", ()))})


def sentence_id(chunk: Chunk, k: int) -> str:
    """Id of a chunk's k-th sentence; it changes when the sentence text changes."""
    digest = hashlib.sha256(chunk.sentences[k].encode()).hexdigest()[:8]
    return f"{chunk.id}:{k}:{digest}"


def plain_text(markdown_inline: str) -> str:
    """Drop inline Markdown markup (emphasis, links, code) and collapse whitespace."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown_inline)
    text = re.sub(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def _chunk_id(doc_id: str, embed_text: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{doc_id}\x00{embed_text}\x00{occurrence}".encode()).hexdigest()
    return digest[:24]


def _item_text(tokens: list[Token], start: int) -> tuple[str, int]:
    """Text of the list item opening at `start` (nested content flattened), and the index after it."""
    depth, i = 0, start
    parts: list[str] = []
    number = ""  # "- 27. November 2024: …" parses as a list numbered from 27 inside the item: keep its "27."
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "list_item_open":
            depth += 1
            number = f"{tok.info}{tok.markup} " if depth > 1 and tok.info.isdigit() else ""
        elif tok.type == "list_item_close":
            depth -= 1
            if depth == 0:
                return "; ".join(p for p in parts if p), i + 1
        elif tok.type == "inline":
            parts.append(number + plain_text(tok.content))
            number = ""
        i += 1
    return "; ".join(p for p in parts if p), i


class _Walker:
    """Walks a document's Markdown tokens once, keeping the section it is in and the paragraph before a list."""

    def __init__(self, doc: Document, tokens: list[Token]) -> None:
        self.doc, self.tokens = doc, tokens
        self.raw: list[dict] = []  # chunks before ids, with their section number for source assignment
        self.section, self.section_no, self.heading_level = "", 0, 0
        self.section_urls: dict[int, str] = {}
        self.last_paragraph, self.list_no = "", 0

    def walk(self) -> list[dict]:
        handlers = {
            "heading_open": self._heading,
            "html_block": self._html,
            "bullet_list_open": self._list,
            "ordered_list_open": self._list,
            "paragraph_open": self._paragraph,
        }
        i = 0
        while i < len(self.tokens):
            handler = handlers.get(self.tokens[i].type)
            i = handler(i) if handler else i + 1
        return self.raw

    def _add(self, kind: str, text: str, lead: str = "", **extra) -> None:
        self.raw.append(
            dict(kind=kind, text=text, section=self.section, section_no=self.section_no, lead=lead, **extra)
        )

    def _heading(self, i: int) -> int:
        level = int(self.tokens[i].tag[1])
        title = plain_text(self.tokens[i + 1].content)
        if level <= 2 or not self.section:
            self.section, self.heading_level = title, level
        else:
            parent = self.section.split(" › ")[0] if self.heading_level < level else self.section
            self.section = f"{parent} › {title}"
        self.section_no += 1
        self.last_paragraph = ""
        return i + 3

    def _html(self, i: int) -> int:
        marker = SOURCE_MARKER.search(self.tokens[i].content)
        if marker:
            positions = [int(t) for t in marker.group(1).split() if t.isdigit()]
            if positions and 1 <= positions[0] <= len(self.doc.sources):
                self.section_urls.setdefault(self.section_no, self.doc.sources[positions[0] - 1])
        return i + 1

    def _list(self, i: int) -> int:
        """Every top-level item of the list is a chunk of its own; the paragraph before it is their lead-in."""
        self.list_no += 1
        lead, tokens = self.last_paragraph, self.tokens
        depth, j = 0, i
        while j < len(tokens):
            t = tokens[j]
            if t.type in ("bullet_list_open", "ordered_list_open"):
                depth += 1
            elif t.type in ("bullet_list_close", "ordered_list_close"):
                depth -= 1
                if depth == 0:
                    break
            elif t.type == "list_item_open" and depth == 1:
                text, j = _item_text(tokens, j)
                if text:
                    self._add("list_item", text, lead=lead, list_no=self.list_no)
                continue
            j += 1
        return j + 1

    def _paragraph(self, i: int) -> int:
        tokens = self.tokens
        if tokens[i].level != 0:
            return i + 1
        text = plain_text(tokens[i + 1].content)
        introduces_list = text.endswith(":") and i + 3 < len(tokens) and tokens[i + 3].type.endswith("list_open")
        if introduces_list:  # the sentence introducing a list: its own "lead" chunk and the items' context
            *before, text = split_sentences(text) or [text]
            if before:
                self._add("paragraph", " ".join(before))
            self._add("lead", text, list_no=self.list_no + 1)
            self.last_paragraph = text
        elif text:
            self._add("paragraph", text)
            self.last_paragraph = ""
        return i + 3


def chunk_document(doc: Document) -> list[Chunk]:
    """Split a document into paragraph and list-item chunks with context and section links."""
    walker = _Walker(doc, _MD.parse(doc.body))
    raw = walker.walk()
    group = doc.translation_of or doc.id
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(raw):
        heading = item["section"] or doc.title
        context = f"{doc.title} – {heading}" if item["section"] else doc.title
        if item["lead"]:
            context += f"\n{item['lead']}"
        embed_text = f"{context}\n{item['text']}"
        occurrence = seen.get(embed_text, 0)
        seen[embed_text] = occurrence + 1
        chunks.append(
            Chunk(
                id=_chunk_id(doc.id, embed_text, occurrence),
                doc_id=doc.id,
                group=group,
                position=position,
                lang=doc.lang,
                topic=doc.topic,
                title=doc.title,
                section=heading,
                url=walker.section_urls.get(item["section_no"], doc.url),
                kind=item["kind"],
                text=item["text"],
                context=context,
                list_id=f"{doc.id}#list{item['list_no']}" if "list_no" in item else None,
                sentences=tuple(split_sentences(item["text"])) if item["kind"] == "paragraph" else (item["text"],),
            )
        )
    return chunks


def chunk_corpus(documents: list[Document]) -> list[Chunk]:
    """Chunks of all documents, in a stable order."""
    return [chunk for doc in sorted(documents, key=lambda d: d.id) for chunk in chunk_document(doc)]
