"""The extractive answerer: an answer made only of sentences from the retrieved passages.

Nothing is generated, so nothing can be made up: each sentence is quoted from a
passage in the question's language and carries its citation number. Sentences
are chosen by their similarity to the question (vectors computed at index time),
near-duplicates are dropped, and a list whose items dominate the results is
offered whole so that "which clusters ..." gets every item.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.chunking import Chunk, sentence_id
from assistant.index import LoadedIndex
from assistant.lexical import normalize
from assistant.retrieval import Passage, Retriever
from assistant.sentences import ends_in_abbreviation, split_sentences
from assistant.settings import Settings
from assistant.turn import Turn


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    topic: str
    lang: str
    url: str
    text: str
    section: str


ENUMERATION = re.compile(
    r"(?<!\w)(welche[nrs]?|which|what are|what kinds?|list|liste|alle|all|nenn|aufz[äa]hl|übersicht|overview)(?!\w)",
    re.IGNORECASE,
)


# Sentence openings that refer back to the sentence before ("Sie schafft Räume ...", "This opens ...").
ANAPHORA = re.compile(
    r"^(sie|er|es|dies|diese[rsnm]?|damit|dadurch|dabei|daher|deshalb|so|denn|dort|dazu|dafür|hierzu|außerdem|"
    r"zudem|they|it|its|their|this|these|that|those|thus|so|therefore|because|there|in this way|in addition)\b",
    re.IGNORECASE,
)


@dataclass
class Unit:
    """What one citation stands for: a single chunk or a whole list."""

    chunks: list[Chunk]
    rank: int
    is_list: bool = False
    selected: list[tuple[int, int]] = field(default_factory=list)  # (chunk index, sentence index)

    @property
    def first(self) -> Chunk:
        return self.chunks[0]


@dataclass
class Composition:
    answer: str
    citations: list[Citation]
    best_sentence: float


_END = re.compile(r"([.!?…:;]+)([\"'“”»«)]*)$")


def cite(text: str, n: int) -> str:
    """Mark every sentence of a quote, before its final punctuation: "... Hafen [2]." ("... e.V. [2]")."""
    marked = []
    for sentence in split_sentences(text) or [text.strip()]:
        match = _END.search(sentence)
        if match and not ends_in_abbreviation(sentence):
            marked.append(f"{sentence[: match.start()]} [{n}]{match.group(1)}{match.group(2)}")
        else:
            marked.append(f"{sentence} [{n}]")
    return " ".join(marked)


class Composer:
    """Builds the cited extractive answer from ranked passages."""

    def __init__(self, index: LoadedIndex, retriever: Retriever, settings: Settings) -> None:
        self.index = index
        self.retriever = retriever
        self.settings = settings
        self.lists: dict[str, list[Chunk]] = defaultdict(list)
        self.leads: dict[str, Chunk] = {}
        for chunk in index.chunks:
            if chunk.kind == "lead" and chunk.list_id:
                self.leads[chunk.list_id] = chunk
            elif chunk.list_id:
                self.lists[chunk.list_id].append(chunk)

    def _vector(self, chunk: Chunk, k: int) -> np.ndarray | None:
        row = self.index.sentence_row.get(sentence_id(chunk, k))
        return None if row is None else self.index.sentence_vectors[row]

    def _units(self, passages: Sequence[Passage], lang: str, pool: int) -> list[Unit]:
        """Top passages as units; list items that dominate the top results pull in their whole list."""
        top = [p.in_language(lang) for p in passages[:pool]]
        counts: dict[str, int] = defaultdict(int)
        for chunk in top:
            if chunk.list_id:
                counts[chunk.list_id] += 2 if chunk.kind == "lead" else 1
        units: list[Unit] = []
        taken: set[str] = set()
        for rank, chunk in enumerate(top):
            if chunk.id in taken:
                continue
            list_id = chunk.list_id
            size = len(self.lists.get(list_id or "", []))
            # a list is quoted as a whole when its lead-in or several of its items rank high
            dominant = list_id is not None and counts[list_id] >= 2 and counts[list_id] >= min(3, math.ceil(size / 3))
            if list_id and size and (chunk.kind == "lead" or dominant):
                lead = self.leads.get(list_id)
                items = ([lead] if lead else []) + self.lists[list_id]
                units.append(Unit(chunks=items, rank=rank, is_list=True))
                taken.update(c.id for c in items)
            else:
                units.append(Unit(chunks=[chunk], rank=rank))
                taken.add(chunk.id)
        return units

    def citations_for(self, passages: Sequence[Passage], lang: str, limit: int) -> list[Citation]:
        """The top passages as numbered sources (a list counts as one), e.g. for a generated answer."""
        units = self._units(passages, lang, pool=max(8, limit * 2))[:limit]
        return [self._citation(n, unit) for n, unit in enumerate(units, start=1)]

    @staticmethod
    def _citation(n: int, unit: Unit) -> Citation:
        chunk = unit.first
        if unit.is_list:
            items = [c for c in unit.chunks if c.kind != "lead"]
            lead = chunk.text if chunk.kind == "lead" else ""
            text = (lead + "\n" if lead else "") + "\n".join(f"- {c.text}" for c in items)
        else:
            text = chunk.text
        return Citation(
            n=n,
            doc_id=chunk.doc_id,
            title=chunk.title,
            topic=chunk.topic,
            lang=chunk.lang,
            url=chunk.url,
            text=text,
            section=chunk.section,
        )

    def answer(self, turn: Turn) -> Composition:
        """The answer stage without an LLM: the extractive answer for what the stages before found."""
        query, found = turn.query, turn.found
        assert query is not None and found is not None, "the composer runs after understand and retrieve"
        return self.compose(
            query.sentence_vector,
            found.passages,
            turn.lang,
            enumeration=query.enumeration,
            topics=query.topics,
            defined=turn.defined,
        )

    def compose(
        self,
        query_vector: np.ndarray,
        passages: Sequence[Passage],
        lang: str,
        enumeration: bool = False,
        topics: Sequence[str] = (),
        defined: Sequence[str] = (),
    ) -> Composition:
        """Quote the best sentences of the best passages; `enumeration` keeps whole lists together.

        With two or more `topics` (clusters the question names), each of them is quoted from its best
        passage, so "Hamburg@work oder die Logistik-Initiative?" is not answered from one side only.
        With `defined` ("(mcn"), the best sentence spelling an abbreviation out comes first.
        """
        s = self.settings
        units = self._units(passages, lang, pool=max(8, s.max_citations * 2))
        scored = [self._scored(unit, query_vector) for unit in units]
        bests = [rows[0][0] if rows else -1.0 for rows in scored]
        if not units or max(bests) < 0:
            return Composition(answer="", citations=[], best_sentence=0.0)
        best = max(bests)
        chosen: list[np.ndarray] = []
        used: list[int] = []
        count = 0
        named = set(topics) if len(set(topics)) >= 2 else set()
        spelled = self._spelled_out(units, scored, defined)
        if spelled is not None:  # "Was bedeutet MCN?" - "… Maritime Cluster Norddeutschland e.V. (MCN) …"
            u, c, k, vector = spelled
            units[u].selected.append((c, k))
            units[u].rank = -1
            chosen.append(vector)
            used.append(u)
            count += 1
        for u, unit in enumerate(units):
            if len(used) >= s.max_citations or count >= s.max_sentences:
                break
            if u in used:
                continue
            missing = unit.first.topic in named - {units[v].first.topic for v in used}
            if not scored[u] or (used and bests[u] < best - (s.list_margin if missing else s.unit_margin)):
                continue
            # the first list of an enumeration question is quoted generously: its items are the answer
            whole_list = unit.is_list and enumeration and not any(units[v].is_list for v in used)
            count = self._quote(unit, scored[u], bests[u], chosen, count, whole_list)
            if unit.selected:
                self._add_cohesive_neighbours(unit)
                used.append(u)
        return self._render(units, used, best)

    def _scored(self, unit: Unit, query_vector: np.ndarray) -> list[tuple[float, int, int, np.ndarray]]:
        """(similarity, chunk, sentence, vector) of every sentence of a unit, best first."""
        rows = []
        for c, chunk in enumerate(unit.chunks):
            for k in range(len(chunk.sentences)):
                vector = self._vector(chunk, k)
                if vector is not None:
                    rows.append((float(vector @ query_vector), c, k, vector))
        rows.sort(key=lambda r: -r[0])
        return rows

    @staticmethod
    def _spelled_out(units: list[Unit], scored: list, defined: Sequence[str]) -> tuple | None:
        """(unit, chunk, sentence, vector) of the best sentence spelling out an abbreviation asked about."""
        found = [
            (score, u, c, k, vector)
            for u, rows in enumerate(scored if defined else [])
            for score, c, k, vector in rows
            if any(p in normalize(units[u].chunks[c].sentences[k]) for p in defined)
        ]
        if not found:
            return None
        _score, u, c, k, vector = max(found, key=lambda row: row[0])
        return u, c, k, vector

    def _quote(
        self, unit: Unit, rows: list, best: float, chosen: list[np.ndarray], count: int, whole_list: bool
    ) -> int:
        """Select a unit's sentences within the margin of its best that repeat nothing chosen; the new count."""
        s = self.settings
        margin = s.list_margin if whole_list else s.sentence_margin
        own: list[np.ndarray] = []
        for score, c, k, vector in rows:
            if score < best - margin:
                break
            # items of one list are distinct by construction, however alike their wording
            if any(float(vector @ other) > s.redundancy_threshold for other in chosen):
                continue
            if count >= s.max_sentences and not whole_list:
                break
            unit.selected.append((c, k))
            (own if unit.is_list else chosen).append(vector)
            count += 1
        chosen.extend(own)
        return count

    @staticmethod
    def _add_cohesive_neighbours(unit: Unit) -> None:
        """Quote the sentence a chosen one leans on ("Sie schafft ...", "This ...") and the one leaning on it."""
        if unit.is_list:
            return
        sentences = unit.first.sentences
        chosen = {k for _, k in unit.selected}
        grown = set(chosen)
        changed = True
        while changed:  # "A. Sie tun B. Damit C." - choosing A pulls in B, and B pulls in C
            changed = False
            for k in list(grown):
                for neighbour in (
                    k - 1 if ANAPHORA.match(sentences[k]) else None,
                    k + 1 if k + 1 < len(sentences) and ANAPHORA.match(sentences[k + 1]) else None,
                ):
                    if neighbour is not None and neighbour >= 0 and neighbour not in grown:
                        grown.add(neighbour)
                        changed = True
        unit.selected.extend((0, k) for k in sorted(grown - chosen))

    def _items_introduced(self, unit: Unit) -> list[tuple[int, int]]:
        """The list items a lead-in introduces, in their order, up to MAX_SENTENCES."""
        items = [(c, 0) for c, chunk in enumerate(unit.chunks) if chunk.kind != "lead"]
        return items[: self.settings.max_sentences]

    def _render(self, units: list[Unit], used: list[int], best: float) -> Composition:
        order = sorted(used, key=lambda u: units[u].rank)
        blocks: list[str] = []
        citations: list[Citation] = []
        for n, u in enumerate(order, start=1):
            unit = units[u]
            chosen = sorted(unit.selected)
            if unit.is_list:
                lead = unit.first.text if unit.first.kind == "lead" else ""
                if lead and not any(unit.chunks[c].kind != "lead" for c, _ in chosen):
                    chosen = self._items_introduced(unit)  # a lead-in never stands without what it introduces
                lines = [
                    f"- {cite(unit.chunks[c].sentences[k], n)}" for c, k in chosen if unit.chunks[c].kind != "lead"
                ]
                blocks.append("\n".join(([cite(lead, n)] if lead else []) + lines))
            else:
                chunk = unit.first
                sentences = [cite(chunk.sentences[k], n) for _, k in chosen]
                blocks.append(("- " if chunk.kind == "list_item" else "") + " ".join(sentences))
            citations.append(self._citation(n, unit))
        answer = ""
        for block in blocks:  # consecutive list items form one Markdown list
            joins_list = block.startswith("- ") and answer.rsplit("\n", 1)[-1].startswith("- ")
            answer = f"{answer}{chr(10) if joins_list else chr(10) * 2}{block}" if answer else block
        return Composition(answer=answer, citations=citations, best_sentence=best)
