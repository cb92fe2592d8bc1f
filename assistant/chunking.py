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
    depth, parts, i = 0, [], start
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "list_item_open":
            depth += 1
        elif tok.type == "list_item_close":
            depth -= 1
            if depth == 0:
                return "; ".join(p for p in parts if p), i + 1
        elif tok.type == "inline":
            parts.append(plain_text(tok.content))
        i += 1
    return "; ".join(p for p in parts if p), i


def chunk_document(doc: Document) -> list[Chunk]:
    """Split a document into paragraph and list-item chunks with context and section links."""
    tokens = _MD.parse(doc.body)
    group = doc.translation_of or doc.id
    raw: list[dict] = []  # chunks before ids, with their section number for source assignment
    section, section_no, heading_level = "", 0, 0
    section_urls: dict[int, str] = {}
    last_paragraph, list_no = "", 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            title = plain_text(tokens[i + 1].content)
            if level <= 2 or not section:
                section, heading_level = title, level
            else:
                parent = section.split(" › ")[0] if heading_level < level else section
                section = f"{parent} › {title}"
            section_no += 1
            last_paragraph = ""
            i += 3
            continue
        if tok.type == "html_block":
            marker = SOURCE_MARKER.search(tok.content)
            if marker:
                positions = [int(t) for t in marker.group(1).split() if t.isdigit()]
                if positions and 1 <= positions[0] <= len(doc.sources):
                    section_urls.setdefault(section_no, doc.sources[positions[0] - 1])
            i += 1
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_no += 1
            lead = last_paragraph
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
                    text, nxt = _item_text(tokens, j)
                    if text:
                        raw.append(
                            dict(
                                kind="list_item",
                                text=text,
                                section=section,
                                section_no=section_no,
                                lead=lead,
                                list_no=list_no,
                            )
                        )
                    j = nxt
                    continue
                j += 1
            i = j + 1
            continue
        if tok.type == "paragraph_open" and tok.level == 0:
            text = plain_text(tokens[i + 1].content)
            introduces_list = text.endswith(":") and i + 3 < len(tokens) and tokens[i + 3].type.endswith("list_open")
            if introduces_list:  # the sentence introducing a list: its own "lead" chunk and the items' context
                *before, text = split_sentences(text) or [text]
                if before:
                    raw.append(
                        dict(
                            kind="paragraph",
                            text=" ".join(before),
                            section=section,
                            section_no=section_no,
                            lead="",
                        )
                    )
                raw.append(
                    dict(kind="lead", text=text, section=section, section_no=section_no, lead="", list_no=list_no + 1)
                )
                last_paragraph = text
            elif text:
                raw.append(dict(kind="paragraph", text=text, section=section, section_no=section_no, lead=""))
                last_paragraph = ""
            i += 3
            continue
        i += 1

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
                url=section_urls.get(item["section_no"], doc.url),
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
