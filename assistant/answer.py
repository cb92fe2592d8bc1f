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
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from assistant import messages
from assistant.chunking import Chunk, sentence_id
from assistant.fit import ANAPHORA, GENERAL_TOPICS, Asked, SentenceFit
from assistant.index import LoadedIndex
from assistant.lexical import normalize
from assistant.question_kind import (
    ACTIVITY,
    FUNDER,
    HOW_MANY,
    HOW_TO,
    MONEY,
    PURPOSE,
    SHARE,
    WHEN,
    WHERE,
    WHO,
    holds,
    holds_office,
    kinds_asked,
    states_aim,
    years_named,
)
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


# "Welche Cluster …?", "In which cluster …?": the answer is clusters, so each item quoted says whose it is
ASKS_CLUSTER = re.compile(
    r"(?<!\w)(?:(?:welche[nrsm]?|which|what)(?: \w+)? (?:clusters?|clustern)|"
    r"(?:in|bei|zu|von|aus|an) welche[mnr]?(?: \w+)? cluster\w*|(?:in|to|of) which(?: \w+)? clusters?)(?!\w)",
    re.IGNORECASE,
)
# the plural ("Welche Cluster …?", "Which clusters …?", "welche zwei Cluster") asks for more than one
ASKS_CLUSTERS = re.compile(
    r"(?<!\w)(?:welche(?: \w+)? cluster(?!\w)|which(?: \w+)? clusters|what(?: \w+)? clusters)", re.IGNORECASE
)
MAX_CLUSTERS = 3  # "Welche Cluster befassen sich mit …?" is answered from at most this many clusters' lists

# kinds whose absence from every quoted sentence is said ("Ein Datum dazu nennen die Quellen nicht."): their
# facts are recognised reliably (a role, a year, a number); a place or a way is recognised too loosely for that
GAP_KINDS = (WHO, WHEN, FUNDER, SHARE, MONEY, HOW_MANY)
FACT_KINDS = frozenset({WHO, WHEN, FUNDER, SHARE, MONEY, HOW_MANY, WHERE, HOW_TO})
Item = tuple[int, int, int]  # (unit, chunk, sentence)
LOOKED_UP = 2  # sentences of a kind looked up in an organisation's passages
LABELLED_LIST = 3  # a list this long answers with its labels; shorter ones are quoted whole
LABEL = re.compile(r"^([^:.;!?]{2,60}):\s+\S")  # "Neue Materialien: Entwicklung …" - the label is before the colon
LABEL_WORDS = 6


def holds_any(kinds: Sequence[str], text: str) -> bool:
    """Whether a text holds a fact of any of the kinds."""
    return any(holds(kind, text) for kind in kinds)


# a lead-in that introduces its list as an addition to another ("Weitere Themen …:", "Further topics …:")
SUPPLEMENT = re.compile(r"^\W*(weitere[nrs]?|zusätzliche[nrs]?|andere[nrs]?|further|other|additional)\b", re.I)


def supplements(lead_in: str) -> bool:
    """Whether a list's lead-in introduces it as an addition to another list."""
    return bool(SUPPLEMENT.match(lead_in))


def lists_what_it_does(chunk: Chunk) -> bool:
    """Whether a chunk is a list's lead-in that introduces what an organisation does ("… arbeitet an diesen
    Schwerpunkten:")."""
    return chunk.kind == "lead" and holds(ACTIVITY, chunk.sentences[0])


def label_of(item: str) -> str | None:
    """The label an item starts with ("Leichtbau" of "Leichtbau: Entwicklung von …"), if it has a short one."""
    match = LABEL.match(item)
    if not match or len(match.group(1).split()) > LABEL_WORDS or any(ch.isdigit() for ch in match.group(1)):
        return None  # a date or a figure before the colon keys the item, it does not name it
    return match.group(1).strip()


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
    more: str = ""  # "More on this": further cited sentences about the topic, shown collapsed
    gaps: list[str] = field(default_factory=list)  # what was asked and is not in the sources, said in words


@dataclass(eq=False)  # compared by identity: it holds a vector
class Candidate:
    fit: float
    item: Item
    vector: np.ndarray
    words: int


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
        self.fit = SentenceFit(index, settings)
        self.lists: dict[str, list[Chunk]] = defaultdict(list)
        self.leads: dict[str, Chunk] = {}
        self.by_topic: dict[tuple[str, str], list[Chunk]] = defaultdict(list)
        for chunk in index.chunks:
            self.by_topic[(chunk.topic, chunk.lang)].append(chunk)
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
    def _citation(n: int, unit: Unit, lead: str = "") -> Citation:
        """A unit as a numbered source; a list item is shown under its lead-in, as it was quoted."""
        chunk = unit.first
        if unit.is_list or lead:
            items = [c for c in unit.chunks if c.kind != "lead"]
            lead = lead or (chunk.text if chunk.kind == "lead" else "")
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
        asked = self.fit.asked(
            query.searchable, turn.lang, tuple(kinds_asked(turn.question)), frozenset(query.search_topics)
        )
        parts = [
            (
                self.fit.asked(part.text, turn.lang, tuple(kinds_asked(part.text)), frozenset(part.topics)),
                part.vector,
            )
            for part in query.parts
        ]
        return self.compose(
            query.sentence_vector,
            found.passages,
            turn.lang,
            enumeration=query.enumeration,
            topics=query.topics,
            defined=turn.defined,
            asked=asked,
            years=years_named(turn.question),
            parts=parts,
            clusters=2 if ASKS_CLUSTERS.search(turn.question) else int(bool(ASKS_CLUSTER.search(turn.question))),
        )

    def compose(
        self,
        query_vector: np.ndarray,
        passages: Sequence[Passage],
        lang: str,
        enumeration: bool = False,
        topics: Sequence[str] = (),
        defined: Sequence[str] = (),
        asked: Asked | None = None,
        years: Sequence[str] = (),
        parts: Sequence[tuple[Asked, np.ndarray]] = (),
        clusters: int = 0,
    ) -> Composition:
        """The answer first, then "more on this": both quoted from the best sentences of the best passages.

        The passages and sentences worth quoting are chosen by similarity (`_select`); of those, the sentences
        that fit the question best (`asked`: its terms, the kind of fact it asks for, the organisation it is
        about) form the short answer, and the rest goes to `more`. With two or more `topics` each is answered
        from its best passage; with `defined` ("(mcn") the sentence spelling the abbreviation out comes first;
        an enumeration keeps its whole list in the answer; a question asking several things (`parts`, each with
        its own terms and vector) opens with the best sentence for each, in the order it asks them.
        """
        asked = asked or Asked(lang=lang, terms={}, kinds=(), topics=frozenset())
        units = self._units(passages, lang, pool=max(8, self.settings.max_citations * 2))
        scored = [self._scored(unit, query_vector) for unit in units]
        bests = [rows[0][0] if rows else -1.0 for rows in scored]
        if not units or max(bests) < 0:
            return Composition(answer="", citations=[], best_sentence=0.0)
        used, spelled = self._select(units, scored, bests, enumeration, topics, defined)
        self._look_up_kinds(units, scored, used, asked, query_vector)
        self._look_up_activities(units, scored, used, asked, query_vector)
        main, gaps = self._lead(units, scored, used, asked, enumeration, topics, spelled, years, parts, clusters)
        notes = [messages.text(lang, f"gap_{kind}") for kind in gaps if kind in GAP_KINDS]
        notes += [messages.text(lang, "gap_year", year=gap) for gap in gaps if gap.isdigit()]
        # an answer about one organisation says nothing about another, in its "more on this" either
        about = asked.topics | GENERAL_TOPICS if asked.topics else None
        # labels alone answer a question for a list, not one asking for a person, a date, a number or a place
        labels = (enumeration or ACTIVITY in asked.kinds) and not years and not set(asked.kinds) & FACT_KINDS
        facts = [kind for kind in asked.kinds if kind in FACT_KINDS] + [WHEN] * bool(years)
        composition = self._render(units, used, main, max(bests), about, labels, facts, bool(clusters))
        composition.gaps = notes
        return composition

    def _select(
        self,
        units: list[Unit],
        scored: list[list],
        bests: list[float],
        enumeration: bool,
        topics: Sequence[str],
        defined: Sequence[str],
    ) -> tuple[list[int], Item | None]:
        """The units worth citing, with their sentences selected by similarity; and the spelled-out sentence."""
        s = self.settings
        best = max(bests)
        chosen: list[np.ndarray] = []
        used: list[int] = []
        count = 0
        named = set(topics) if len(set(topics)) >= 2 else set()
        spelled = self._spelled_out(units, scored, defined)
        first: Item | None = None
        if spelled is not None:  # "Was bedeutet MCN?" - "… Maritime Cluster Norddeutschland e.V. (MCN) …"
            u, c, k, vector = spelled
            units[u].selected.append((c, k))
            units[u].rank = -1
            chosen.append(vector)
            used.append(u)
            count += 1
            first = (u, c, k)
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
        return used, first

    def _look_up_kinds(
        self, units: list[Unit], scored: list[list], used: list[int], asked: Asked, query_vector: np.ndarray
    ) -> None:
        """A kind of fact asked about a named organisation that no quoted passage holds ("Wer leitet …?" when
        the passages found describe the cluster but name nobody): its best sentences holding that kind, from all
        of the organisation's passages, are quoted too. Retrieval ranks by the words of the question, and a
        question for a person or a date shares few words with the sentence holding it."""
        if not asked.topics:
            return
        quoted = [(units[u].chunks[c], k) for u in used for _, c, k, _ in scored[u]]
        taken = {chunk.id for u in used for chunk in units[u].chunks}
        unit_of = {chunk.id: u for u, unit in enumerate(units) for chunk in unit.chunks if len(unit.chunks) == 1}
        # one kind asked of several organisations is asked of each ("Wann wurden X und Y gegründet?" needs two dates)
        gap_kinds = [kind for kind in asked.kinds if kind in GAP_KINDS]
        each = sorted(asked.topics) if len(gap_kinds) == 1 else [None]
        parts = [(kind, topic) for kind in gap_kinds for topic in each]
        for kind, topic in parts:
            mine = [(chunk, k) for chunk, k in quoted if topic is None or len(asked.topics) < 2 or chunk.topic == topic]
            if any(self._holds(kind, chunk.sentences[k], asked) for chunk, k in mine):
                continue
            of = asked if topic is None else replace(asked, topics=frozenset({topic}))
            found = self._holding(kind, of, query_vector, taken)
            # the best, and one more as good (a managing director and a board chair both lead)
            for fit, chunk, k, vector in found[:LOOKED_UP]:
                if fit < found[0][0] - self.settings.answer_margin:
                    break
                u = unit_of.get(chunk.id)
                if u is None:  # a passage retrieval did not rank: cited after the others
                    units.append(Unit(chunks=[chunk], rank=len(units)))
                    scored.append([])
                    u = unit_of[chunk.id] = len(units) - 1
                self._cite_sentence(units, scored, used, (u, 0, k), vector, query_vector)
                quoted.append((chunk, k))

    def _look_up_activities(
        self, units: list[Unit], scored: list[list], used: list[int], asked: Asked, query_vector: np.ndarray
    ) -> None:
        """A question for what a named organisation does ("Woran arbeitet …?"): the organisation's best-fitting
        list introduced as what it works on (a lead-in such as "… arbeitet an diesen Schwerpunkten:") is quoted,
        whether retrieval ranked it or not. Retrieval ranks single facts that share the question's words above the
        list that answers it."""
        if ACTIVITY not in asked.kinds or len(asked.topics) != 1:
            return
        (topic,) = asked.topics
        found = []
        for chunk in self.by_topic.get((topic, asked.lang), []):
            vector = self._vector(chunk, 0)
            if chunk.list_id in self.lists and vector is not None and lists_what_it_does(chunk):
                found.append((self.fit.score(asked, chunk, 0, float(vector @ query_vector)), chunk, vector))
        if not found:
            return
        _fit, lead, vector = min(found, key=lambda row: (*self._activity_rank(row[1], asked), -row[0]))
        u = next((v for v, unit in enumerate(units) if unit.is_list and unit.first.id == lead.id), None)
        if u is None:
            units.append(Unit(chunks=[lead] + self.lists[lead.list_id or ""], rank=len(units), is_list=True))
            scored.append([])
            u = len(units) - 1
        self._cite_sentence(units, scored, used, (u, 0, 0), vector, query_vector)

    @staticmethod
    def _cite_sentence(
        units: list[Unit], scored: list[list], used: list[int], item: Item, vector: np.ndarray, query_vector: np.ndarray
    ) -> None:
        """Quote a sentence a look-up found: scored against the question, selected, its unit cited."""
        u, c, k = item
        if not any(row[1] == c and row[2] == k for row in scored[u]):
            scored[u].append((float(vector @ query_vector), c, k, vector))
        if (c, k) not in units[u].selected:
            units[u].selected.append((c, k))
        if u not in used:
            used.append(u)

    def _holding(
        self, kind: str, asked: Asked, query_vector: np.ndarray, taken: set[str]
    ) -> list[tuple[float, Chunk, int, np.ndarray]]:
        """The sentences of the asked organisations' passages holding a kind of fact, by fit, best first. Beyond a
        person, the sentence must also name something the question asks about besides the organisation (the
        thing counted, the event dated): any number or date of the organisation would not answer."""
        found = []
        chunks = (c for t in sorted(asked.topics) for c in self.by_topic.get((t, asked.lang), []) if c.id not in taken)
        for chunk in chunks:
            for k in range(len(chunk.sentences)):
                vector = self._vector(chunk, k)
                if vector is None or not self._answers_kind(chunk, k, kind, asked):
                    continue
                found.append((self.fit.score(asked, chunk, k, float(vector @ query_vector)), chunk, k, vector))
        found.sort(key=lambda row: -row[0])
        return found

    def _candidates(self, units: list[Unit], scored: list[list], used: list[int], asked: Asked) -> list[Candidate]:
        """Every sentence of the cited passages with its fit to the question, best first (a list's lead-in
        stands for its list)."""
        found = []
        for u in used:
            for dense, c, k, vector in scored[u]:
                chunk = units[u].chunks[c]
                fit = self.fit.score(asked, chunk, k, dense)
                found.append(Candidate(fit, (u, c, k), vector, len(chunk.sentences[k].split())))
        found.sort(key=lambda cand: -cand.fit)
        return found

    def _lead(
        self,
        units: list[Unit],
        scored: list[list],
        used: list[int],
        asked: Asked,
        enumeration: bool,
        topics: Sequence[str],
        spelled: Item | None,
        years: Sequence[str],
        parts: Sequence[tuple[Asked, np.ndarray]] = (),
        clusters: int = 0,
    ) -> tuple[list[Item], list[str]]:
        """The answer's own sentences, in reading order, and what of the question they leave unanswered.

        First the sentence that fits the question best, then a few more that fit almost as well, within
        ANSWER_SENTENCES and ANSWER_WORDS; then, for a question asking two things, the best sentence for each
        part the others leave out (a kind of fact, a named cluster, a year). A part nothing quoted answers is
        returned by name, so the answer can say that the sources do not hold it.
        """
        candidates = self._candidates(units, scored, used, asked)
        if not candidates:
            return [], []
        s = self.settings
        in_list = [cand for cand in candidates if units[cand.item[0]].is_list]
        if enumeration and in_list and in_list[0].fit >= candidates[0].fit - s.answer_margin:
            u = in_list[0].item[0]  # "Welche Cluster …?": the list that fits best is the answer
            lead = units[u].first
            # "…, and which other fields does it cover?": all of what the asked organisation's own list names
            # (with no organisation named, the one whose list fits best: "Welches Cluster …, und was macht es noch?")
            whole = (
                ACTIVITY in asked.kinds and lists_what_it_does(lead) and lead.topic in (asked.topics or {lead.topic})
            )
            items = self._items_introduced(units[u]) if whole else self._items_asked(units[u], asked)
            main = [(u, c, k) for c, k in items]
            if clusters > 1 and not whole:  # "Welche Cluster befassen sich mit …?": each cluster's list that fits
                main += self._other_clusters(units, in_list, asked, lead.topic, in_list[0].fit - s.answer_margin)
                main += self._named_clusters(units, candidates, main, topics)
            return main, []
        by_item = {cand.item: cand for cand in candidates}
        first = by_item.get(spelled) if spelled else None
        first = first or self._activity_first(units, candidates, asked) or candidates[0]
        u, c, _ = first.item
        if units[u].chunks[c].kind == "lead":  # the list fits best: it is the answer, under its lead-in
            # what an organisation does is all that its own list of what it does names
            whole = ACTIVITY in asked.kinds and units[u].chunks[c].topic in asked.topics
            items = self._items_introduced(units[u]) if whole else self._list_items(units[u])
            return [(u, c, k) for c, k in items], []
        candidates = [cand for cand in candidates if self._chunk(units, cand.item).kind != "lead"]
        if asked.topics:  # an answer about one organisation says nothing about another ("Wie viele Mitglieder …?")
            own = [cand for cand in candidates if self._chunk(units, cand.item).topic in asked.topics | GENERAL_TOPICS]
            candidates = own or candidates
            first = first if any(cand is first for cand in candidates) else candidates[0]
        if spelled is None:
            first = self._kind_first(units, candidates, first, asked)
        chosen = [first]
        extra_words = 0
        for cand in candidates:
            if len(chosen) >= s.answer_sentences or cand.fit < first.fit - s.answer_margin:
                break
            if cand is first or self._repeats(cand, chosen, units) or extra_words + cand.words > s.answer_words:
                continue
            chosen.append(cand)
            extra_words += cand.words
        # the best sentence for the whole question first; then the best for each thing it asks, in the order asked
        heads = [first] + [
            h for h in self._part_heads(units, candidates, parts) if not self._repeats(h, [first], units)
        ]
        if len(heads) > 1:
            chosen = heads + [cand for cand in chosen if cand not in heads and not self._repeats(cand, heads, units)]
            chosen = chosen[: max(len(heads), s.answer_sentences)]
        gaps = self._cover_parts(units, candidates, chosen, asked, topics, years)
        return self._reading_order(units, [cand.item for cand in chosen], fixed=len(heads)), gaps

    def _other_clusters(
        self, units: list[Unit], in_list: list[Candidate], asked: Asked, first_topic: str, bar: float
    ) -> list[Item]:
        """The asked items of the best-fitting list of each further cluster (up to MAX_CLUSTERS in all) whose list
        fits within the margin of the best: a question for clusters is answered by every cluster it fits."""
        seen, found = {first_topic}, []
        for cand in in_list:  # best first
            if cand.fit < bar or len(seen) >= MAX_CLUSTERS:
                break
            unit = units[cand.item[0]]
            if unit.first.topic in seen or unit.first.topic in GENERAL_TOPICS:
                continue
            seen.add(unit.first.topic)
            found += [(cand.item[0], c, k) for c, k in self._items_asked(unit, asked)]
        return found

    def _named_clusters(
        self, units: list[Unit], candidates: list[Candidate], main: list[Item], topics: Sequence[str]
    ) -> list[Item]:
        """For a question for clusters naming several ("… mit Film, Games oder Medien?"), the best sentence of each
        named cluster that the answer does not quote yet."""
        have = {self._chunk(units, item).topic for item in main}
        found = []
        for name in dict.fromkeys(topics) if len(set(topics)) >= 2 else ():
            if name in have or name in GENERAL_TOPICS:
                continue
            own = (c for c in candidates if self._chunk(units, c.item).topic == name)
            match = next((c for c in own if self._chunk(units, c.item).kind != "lead"), None)
            if match is not None:
                found.append(match.item)
                have.add(name)
        return found

    def _part_heads(
        self, units: list[Unit], candidates: list[Candidate], parts: Sequence[tuple[Asked, np.ndarray]]
    ) -> list[Candidate]:
        """The sentence answering each part of a question asking several things, in the order of the parts: the
        best by the part's own fit (its terms, kinds and clusters, its vector), with the kind it asks first."""
        heads: list[Candidate] = []
        for part_asked, vector in parts:
            rescored = [
                Candidate(
                    self.fit.score(part_asked, self._chunk(units, c.item), c.item[2], float(c.vector @ vector)),
                    c.item,
                    c.vector,
                    c.words,
                )
                for c in candidates
            ]
            rescored.sort(key=lambda cand: -cand.fit)
            if not rescored:
                continue
            best = self._kind_first(units, rescored, rescored[0], part_asked)
            original = next(c for c in candidates if c.item == best.item)
            if original not in heads and not self._repeats(original, heads, units):
                heads.append(original)
        return heads if len(heads) >= 2 else []

    def _activity_first(self, units: list[Unit], candidates: list[Candidate], asked: Asked) -> Candidate | None:
        """For a question for what an organisation does, the lead-in of its list of what it does, when it fits
        within KIND_FIRST_MARGIN of the best sentence: the list is the answer."""
        if ACTIVITY not in asked.kinds or not candidates:
            return None
        leads = []
        for cand in candidates:  # best first
            if cand.fit < candidates[0].fit - self.settings.kind_first_margin:
                break
            chunk = self._chunk(units, cand.item)
            if lists_what_it_does(chunk) and (not asked.topics or chunk.topic in asked.topics):
                leads.append(cand)
        return min(leads, key=lambda cand: self._activity_rank(self._chunk(units, cand.item), asked), default=None)

    def _activity_rank(self, lead: Chunk, asked: Asked) -> tuple[bool, bool]:
        """How well a list says what an organisation does, lower first: a list whose items name what the question
        asks about beyond the organisation ("… mit Drohnen?") first; then the main list before one introduced as
        "further topics", which adds to it."""
        rest = self.fit.without_terms_of(asked, f"{lead.context} {lead.sentences[0]}")
        items = self.lists.get(lead.list_id or "", [])
        names = bool(rest.terms) and any(self.fit.lexical(rest, item, 0) > 0 for item in items)
        return not names, supplements(lead.sentences[0])

    def _answers_kind(self, chunk: Chunk, k: int, kind: str, asked: Asked) -> bool:
        """Whether a sentence holds the kind of fact asked about what was asked: a person in a role, or a date or
        number beside a term of the question that its heading does not name (the members counted, the event
        dated), so that "two parts" does not answer "how many members"."""
        sentence = chunk.sentences[k]
        return self._holds(kind, sentence, asked) and (kind == WHO or self.fit.names_own_term(asked, chunk, k))

    @staticmethod
    def _holds(kind: str, sentence: str, asked: Asked) -> bool:
        """`holds`, and for a who-question naming an office ("chair"), the sentence names that office."""
        return holds(kind, sentence) and (kind != WHO or holds_office(asked.offices, sentence))

    def _kind_first(self, units: list[Unit], candidates: list[Candidate], first: Candidate, asked: Asked) -> Candidate:
        """For a who / when / how many question the best sentence holding that kind of fact opens the answer, when
        it fits within KIND_FIRST_MARGIN of the best: a reader asking for a person looks for the name first. For a
        question for a goal, the sentence naming the goal ("Ziel ist es …", "The aim is …") opens it likewise."""
        kind = next((kind for kind in asked.kinds if kind in GAP_KINDS), None)
        if kind is None and PURPOSE not in asked.kinds:
            return first
        if self._opens(units, first, kind, asked):
            return first
        for cand in candidates:  # best first
            if cand.fit < first.fit - self.settings.kind_first_margin:
                break
            if self._opens(units, cand, kind, asked):
                return cand
        return first

    def _opens(self, units: list[Unit], cand: Candidate, kind: str | None, asked: Asked) -> bool:
        """Whether a sentence holds the fact a question asks for (`kind`), or for a question for a goal (no such
        kind), names the goal ("Ziel ist es …")."""
        chunk, k = self._chunk(units, cand.item), cand.item[2]
        return self._answers_kind(chunk, k, kind, asked) if kind else states_aim(chunk.sentences[k])

    @staticmethod
    def _chunk(units: list[Unit], item: Item) -> Chunk:
        return units[item[0]].chunks[item[1]]

    def _repeats(self, cand: Candidate, chosen: Sequence[Candidate], units: list[Unit]) -> bool:
        """Whether a sentence says what a chosen one says: almost the same vector, or hardly a term of its own."""
        return any(self._same(units, cand.item, cand.vector, other.item, other.vector) for other in chosen)

    def _same(self, units: list[Unit], item: Item, vector, other: Item, other_vector) -> bool:
        close = vector is not None and other_vector is not None
        if close and float(vector @ other_vector) > self.settings.redundancy_threshold:
            return True
        (u, c, k), (v, d, j) = item, other
        chunk, theirs = units[u].chunks[c], units[v].chunks[d]
        return self.fit.contained(chunk, k, theirs, j) >= self.settings.repeat_overlap

    def _cover_parts(
        self,
        units: list[Unit],
        candidates: list[Candidate],
        chosen: list[Candidate],
        asked: Asked,
        topics: Sequence[str],
        years: Sequence[str],
    ) -> list[str]:
        """Add the best sentence for each part of the question the chosen ones leave out; the parts none answers."""

        def text(cand: Candidate) -> str:
            u, c, k = cand.item
            return units[u].chunks[c].sentences[k]

        def topic(cand: Candidate) -> str:
            return units[cand.item[0]].chunks[cand.item[1]].topic

        def answers(part: tuple[str, str], cand: Candidate) -> bool:
            what, value = part
            if what == "kind":
                return self._holds(value, text(cand), asked)
            if what == "kind_of":
                kind, name = value.split(" ", 1)
                return self._holds(kind, text(cand), asked) and topic(cand) == name
            return topic(cand) == value if what == "topic" else value in text(cand)

        named = list(dict.fromkeys(topics)) if len(set(topics)) >= 2 else []
        kinds = [kind for kind in asked.kinds if kind in GAP_KINDS or len(asked.kinds) >= 2]
        # one person, date or number asked of two organisations ("Wann wurden X und Y gegründet?") is asked of each;
        # with two kinds asked, each kind may be about one of them only
        of_each = [name for name in named if name not in GENERAL_TOPICS] if len(kinds) == 1 else []
        parts = [("kind_of", f"{kind} {name}") for kind in kinds if kind in GAP_KINDS for name in of_each]
        parts += [("kind", kind) for kind in kinds if not (of_each and kind in GAP_KINDS)]
        parts += [("topic", name) for name in named]
        parts += [("year", year) for year in years]
        gaps = []
        for part in parts:
            if any(answers(part, cand) for cand in chosen):
                continue
            fresh = (cand for cand in candidates if answers(part, cand) and not self._repeats(cand, chosen, units))
            match = next(fresh, None)
            if match is None:
                gap = {"topic": "topic:" + part[1], "kind_of": part[1].split(" ", 1)[0]}.get(part[0], part[1])
                gaps.extend([gap] if gap not in gaps else [])
            else:
                chosen.append(match)
        return gaps

    @staticmethod
    def _with_antecedent(units: list[Unit], item: Item) -> list[Item]:
        """A sentence and, when it leans on the one before it ("Sie …", "This …"), that one first (and so on)."""
        u, c, k = item
        if units[u].is_list:
            return [item]
        start = k
        while start > 0 and ANAPHORA.match(units[u].chunks[c].sentences[start]):  # "A. Sie tun B. Damit C."
            start -= 1
        return [(u, c, j) for j in range(start, k + 1)]

    def _reading_order(self, units: list[Unit], items: list[Item], fixed: int = 1) -> list[Item]:
        """The best sentence first (or the first `fixed`, in their order: the answers to each part of a question),
        each after the sentence it leans on; then the rest grouped by passage, in document order."""
        head: list[Item] = []
        for item in items[: max(fixed, 1)]:
            head.extend(i for i in self._with_antecedent(units, item) if i not in head)
        rest: list[Item] = []
        for item in items[max(fixed, 1) :]:
            rest.extend(i for i in self._with_antecedent(units, item) if i not in head and i not in rest)
        unit_order = list(dict.fromkeys([items[0][0]] + [u for u, _, _ in rest]))  # the first's passage goes on
        rest.sort(key=lambda item: (unit_order.index(item[0]), item[1], item[2]))
        return head + rest

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
        if whole_list:  # the items are measured against the best item: a lead-in naming the question sets no bar
            best = max((score for score, c, _, _ in rows if unit.chunks[c].kind != "lead"), default=best)
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

    def _list_items(self, unit: Unit) -> list[tuple[int, int]]:
        """The items of a list unit to quote: those selected, or when only its lead-in was, those it introduces."""
        chosen = sorted((c, k) for c, k in unit.selected if unit.chunks[c].kind != "lead")
        return chosen or self._items_introduced(unit)

    def _items_asked(self, unit: Unit, asked: Asked) -> list[tuple[int, int]]:
        """The items of a list that answer a "which …?" question: when the question names something beyond its
        lead-in that only some items have ("Welches Cluster kümmert sich um die Wärmewende?"), those items;
        otherwise the list (`_list_items`)."""
        named = self.fit.without_terms_of(asked, " ".join([self._lead_in(unit), unit.first.section]))
        items = [c for c, chunk in enumerate(unit.chunks) if chunk.kind != "lead"]
        if not named.terms or not items:
            return self._list_items(unit)
        scores = {
            c: max(self.fit.lexical(named, unit.chunks[c], k) for k in range(len(unit.chunks[c].sentences)))
            for c in items
        }
        best = max(scores.values())
        if best == 0 or best == min(scores.values()):
            return self._list_items(unit)
        return [(c, k) for c in items if scores[c] == best for k in range(len(unit.chunks[c].sentences))]

    def _lead_in(self, unit: Unit) -> str:
        """The sentence introducing the list a unit's items belong to ("" when they belong to none)."""
        if unit.is_list:
            return unit.first.text if unit.first.kind == "lead" else ""
        lead = self.leads.get(unit.first.list_id or "") if unit.first.kind == "list_item" else None
        return lead.text if lead else ""

    def _labelled_lists(self, units: list[Unit], main: list[Item]) -> set[int]:
        """Lists of the answer with LABELLED_LIST items or more that all start with a label ("Leichtbau: …"):
        their labels alone answer "which …?" in a few words."""
        items: dict[int, list[str]] = defaultdict(list)
        for u, c, k in main:
            chunk = units[u].chunks[c]
            if units[u].is_list and units[u].first.kind == "lead" and chunk.kind == "list_item" and k == 0:
                items[u].append(chunk.sentences[0])
        return {u for u, texts in items.items() if len(texts) >= LABELLED_LIST and all(label_of(t) for t in texts)}

    def _blocks(
        self,
        units: list[Unit],
        items: list[Item],
        numbers: dict[int, int],
        shown: set[str],
        labels: set[int] = frozenset(),  # type: ignore[assignment]
        lead_ins: Callable[[str], bool] = lambda lead: True,
        lone_lead_ins: bool = False,
    ) -> str:
        """Quoted sentences as Markdown: a passage's sentences as one paragraph, list items as a list under
        their lead-in (each list's lead-in once, in `shown`), or only their labels for the lists in `labels`; every
        sentence with its citation number."""
        lines: list[str] = []
        previous: tuple[int, int] | None = None
        items_of = Counter((u, c) for u, c, _ in items)
        listed = {u for u, _ in items_of if sum(v == u for v, _ in items_of) >= 2}  # two items make a list
        for u, c, k in items:
            unit, n = units[u], numbers[u]
            chunk = unit.chunks[c]
            if chunk.kind == "lead":
                continue  # printed before its items
            sentence = cite(chunk.sentences[k], n)
            if u in labels and chunk.kind == "list_item":
                sentence = cite(label_of(chunk.sentences[k]) or chunk.sentences[k], n)
            # a lone item is quoted as a sentence of its own: the fact asked comes first, and the lead-in that
            # says which list it belongs to is in the source shown for its citation; several items are a list
            # (a question for clusters keeps it: the lead-in says whose item it is)
            alone = u not in listed
            lead = self._lead_in(unit) if chunk.kind == "list_item" and (lone_lead_ins or not alone) else ""
            lead = lead if lead_ins(lead) else ""
            if lead or (unit.is_list and u in listed):
                key = unit.first.list_id or str(u)  # one lead-in per list, however many passages hold its items
                if lead and key not in shown:
                    lines.extend(["", cite(lead, n)])
                    shown.add(key)
                if previous == (u, c):  # a further sentence of the same item
                    lines[-1] += " " + sentence
                else:
                    if lines and not lines[-1].startswith("- ") and not lines[-1].endswith(":"):
                        lines.append("")  # a list begins a block of its own, unless its lead-in opens it
                    lines.append(f"- {sentence}")
            elif previous is not None and previous[0] == u and not lines[-1].startswith("- "):
                lines[-1] += " " + sentence
            else:
                lines.extend(["", sentence])
            previous = (u, c)
        text = "\n".join(lines).strip()
        return re.sub(r"\n{3,}", "\n\n", text)

    def _render(
        self,
        units: list[Unit],
        used: list[int],
        main: list[Item],
        best: float,
        about: frozenset[str] | None = None,
        labels: bool = False,
        facts: Sequence[str] = (),
        clusters: bool = False,
    ) -> Composition:
        """The answer's sentences, then "more on this": the other selected sentences that repeat none of them."""
        rest: list[Item] = []
        main_vectors = [(item, self._vector(units[item[0]].chunks[item[1]], item[2])) for item in main]
        for u in sorted(used, key=lambda v: units[v].rank):
            unit = units[u]
            if about is not None and unit.first.topic not in about:
                continue
            chosen = sorted(unit.selected)
            if unit.is_list and unit.first.kind == "lead" and not any(unit.chunks[c].kind != "lead" for c, _ in chosen):
                chosen = self._items_introduced(unit)  # a lead-in never stands without what it introduces
            for c, k in chosen:
                vector = self._vector(unit.chunks[c], k)
                repeats = any(self._same(units, (u, c, k), vector, item, other) for item, other in main_vectors)
                if (u, c, k) not in main and unit.chunks[c].kind != "lead" and not repeats:
                    rest.append((u, c, k))
        compact = self._labelled_lists(units, main) if labels else set()
        if compact:  # the labels answer; the items in full come first under "more on this"
            rest = [item for item in main if item[0] in compact] + rest
            main = [item for item in main if item[0] not in compact or item[2] == 0]
        # sources keep the order of retrieval (the best passage is [1]), whichever sentence is read first
        quoted = sorted({u for u, _, _ in main + rest}, key=lambda v: units[v].rank)
        numbers = {u: n for n, u in enumerate(quoted, start=1)}
        shown: set[str] = set()
        # a question for a person, date, number, place or way reads the items holding it first; a lead-in that
        # only says which list they belong to stays in the source shown for their citation
        answer = self._blocks(
            units, main, numbers, shown, compact, lambda lead: not facts or holds_any(facts, lead), clusters
        )
        more = self._blocks(units, rest, numbers, shown)
        citations = [self._citation(n, units[u], self._lead_in(units[u])) for u, n in numbers.items()]
        return Composition(answer=answer, citations=citations, best_sentence=best, more=more)
