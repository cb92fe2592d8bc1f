"""The document corpus: Markdown files with YAML front matter, loaded and validated.

Validation reports every problem with file and field, so an editor fixing the
corpus sees all mistakes at once instead of one per run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import yaml

LANGS = ("de", "en")
TOPICS = (
    "policy",
    "aviation",
    "maritime",
    "life_sciences",
    "renewable_energy",
    "logistics",
    "media_it",
    "creative",
    "finance",
    "food",
)
REQUIRED_FIELDS = ("id", "title", "lang", "topic", "sources", "reviewed")
OPTIONAL_FIELDS = ("translation_of",)
SOURCE_MARKER = re.compile(r"<!--\s*src:\s*([^>]*?)\s*-->")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


@dataclass(frozen=True)
class Document:
    """One validated source document."""

    id: str
    title: str
    lang: str
    topic: str
    sources: tuple[str, ...]
    reviewed: dt.date
    body: str
    path: Path
    translation_of: str | None = None

    @property
    def url(self) -> str:
        """The document's primary link (its first source)."""
        return self.sources[0]


@dataclass(frozen=True)
class CorpusError:
    """A validation problem, located by file and field."""

    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


@dataclass
class CorpusReport:
    """The outcome of loading a corpus folder."""

    documents: list[Document] = field(default_factory=list)
    errors: list[CorpusError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def is_valid_url(value: object) -> bool:
    """An absolute http(s) URL with a dotted host and no whitespace."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    try:
        parsed = urlparse(value)
    except ValueError:
        return False
    host = parsed.hostname or ""
    return parsed.scheme in ("http", "https") and "." in host and not host.startswith(".")


def split_front_matter(text: str) -> tuple[str, str] | None:
    """Return (front matter, body), or None when the file has no front matter block."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        return None
    return match.group(1), text.lstrip("\ufeff")[match.end() :]


def _field_presence(meta: dict) -> list[tuple[str, str]]:
    found = [
        (name, "missing required field") for name in REQUIRED_FIELDS if name not in meta or meta[name] in (None, "")
    ]
    allowed = REQUIRED_FIELDS + OPTIONAL_FIELDS
    found += [(str(n), "unknown field (allowed: " + ", ".join(allowed) + ")") for n in meta if n not in allowed]
    return found


def _field_values(meta: dict) -> list[tuple[str, str]]:
    """id, title, lang, topic, reviewed and translation_of, each by its own rule."""
    found = []
    if "id" in meta and meta["id"] is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", str(meta["id"])):
        found.append(("id", f"{meta['id']!r} may only contain letters, digits, '_', '.' and '-'"))
    if "title" in meta and meta["title"] is not None and not isinstance(meta["title"], str):
        found.append(("title", "must be text"))
    lang = meta.get("lang")
    if lang is not None and lang not in LANGS:
        found.append(("lang", f"{lang!r} is not one of {', '.join(LANGS)}"))
    topic = meta.get("topic")
    if topic is not None and topic not in TOPICS:
        found.append(("topic", f"unknown topic {topic!r} (allowed: {', '.join(TOPICS)})"))
    reviewed = meta.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, dt.date):
        try:
            dt.date.fromisoformat(str(reviewed))
        except ValueError:
            found.append(("reviewed", f"{reviewed!r} is not a date (YYYY-MM-DD)"))
    translation_of = meta.get("translation_of")
    if lang == "en" and not translation_of:
        found.append(("translation_of", "English documents must name the id of their German original"))
    if lang == "de" and translation_of:
        found.append(("translation_of", "only English documents are translations; German documents are originals"))
    return found


def _sources(meta: dict, body: str) -> list[tuple[str, str]]:
    """A non-empty list of http(s) URLs, and source markers in the body that name one of them."""
    sources = meta.get("sources")
    if sources is None:
        return []
    if not isinstance(sources, list) or not sources:
        return [("sources", "must be a non-empty list of URLs")]
    found = [
        ("sources", f"entry {i} is not a valid http(s) URL: {url!r}")
        for i, url in enumerate(sources, start=1)
        if not is_valid_url(url)
    ]
    for marker in SOURCE_MARKER.finditer(body):
        for token in marker.group(1).split():
            if not token.isdigit() or not 1 <= int(token) <= len(sources):
                found.append(("sources", f"source marker names {token!r}, but sources has {len(sources)} entries"))
    return found


def _validate_fields(path: Path, meta: dict, body: str) -> list[CorpusError]:
    found = _field_presence(meta) + _field_values(meta) + _sources(meta, body)
    if not SOURCE_MARKER.sub("", body).strip():
        found.append(("body", "document has no text"))
    return [CorpusError(path, name, message) for name, message in found]


def load_document(path: Path) -> tuple[Document | None, list[CorpusError]]:
    """Parse and validate one file; the document is None when it has errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [CorpusError(path, "file", f"cannot be read as UTF-8 text: {exc}")]
    parts = split_front_matter(text)
    if parts is None:
        return None, [CorpusError(path, "front matter", "missing: the file must start with a '---' YAML block")]
    raw_meta, body = parts
    try:
        meta = yaml.safe_load(raw_meta) or {}
    except yaml.YAMLError as exc:
        return None, [CorpusError(path, "front matter", f"invalid YAML: {exc}")]
    if not isinstance(meta, dict):
        return None, [CorpusError(path, "front matter", "must be a mapping of field: value")]
    errors = _validate_fields(path, meta, body)
    if errors:
        return None, errors
    reviewed = meta["reviewed"]
    if not isinstance(reviewed, dt.date):
        reviewed = dt.date.fromisoformat(str(reviewed))
    doc = Document(
        id=str(meta["id"]),
        title=meta["title"].strip(),
        lang=meta["lang"],
        topic=meta["topic"],
        sources=tuple(meta["sources"]),
        reviewed=reviewed,
        body=body.strip() + "\n",
        path=path,
        translation_of=meta.get("translation_of"),
    )
    return doc, []


def _check_collection(docs: Iterable[Document]) -> list[CorpusError]:
    """Rules across documents: unique ids and complete German/English pairs."""
    docs = list(docs)
    errors: list[CorpusError] = []
    seen: dict[str, Document] = {}
    for doc in docs:
        if doc.id in seen:
            errors.append(CorpusError(doc.path, "id", f"duplicate id {doc.id!r} (also in {seen[doc.id].path})"))
        else:
            seen[doc.id] = doc
    translated = {d.translation_of: d for d in docs if d.lang == "en"}
    for doc in docs:
        if doc.lang == "en":
            original = seen.get(doc.translation_of or "")
            if original is None or original.lang != "de":
                errors.append(
                    CorpusError(doc.path, "translation_of", f"German original {doc.translation_of!r} not found")
                )
            elif original.topic != doc.topic:
                errors.append(
                    CorpusError(doc.path, "topic", f"{doc.topic!r} differs from the original's {original.topic!r}")
                )
        elif doc.id not in translated:
            errors.append(CorpusError(doc.path, "translation_of", f"no English translation of {doc.id!r} found"))
    return errors


def load_corpus(corpus_dir: Path) -> CorpusReport:
    """Load every `*.md` file below `corpus_dir` and validate it, alone and as a collection."""
    report = CorpusReport()
    if not corpus_dir.is_dir():
        report.errors.append(CorpusError(corpus_dir, "folder", "corpus folder does not exist"))
        return report
    paths = sorted(p for p in corpus_dir.rglob("*.md") if p.is_file() and p.name.lower() != "readme.md")
    if not paths:
        report.errors.append(CorpusError(corpus_dir, "folder", "no Markdown documents found"))
    for path in paths:
        doc, errors = load_document(path)
        report.errors.extend(errors)
        if doc is not None:
            report.documents.append(doc)
    report.errors.extend(_check_collection(report.documents))
    return report
