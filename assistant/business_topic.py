"""Which cluster a described business belongs to ("we build hearing aids" → life sciences).

An enquiry often describes the sender instead of naming a cluster. The description is embedded and compared
with every sentence of the corpus; each cluster's score is the mean of its TOP_SENTENCES nearest sentences (one
lucky sentence decides nothing), and the best cluster counts when it leads the next by `margin`. The policy and
overview documents describe all clusters and are no cluster of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.embeddings import Embedder
from assistant.index import LoadedIndex

TOP_SENTENCES = 5
GENERAL_TOPICS = frozenset({"policy", "overview"})


@dataclass
class BusinessTopic:
    """A cluster found for a description: its topic and the title of its best-matching passage."""

    topic: str
    title: str
    score: float
    lead: float


class BusinessTopics:
    """Finds the cluster a business description is closest to, from the index's sentence vectors."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, margin: float) -> None:
        self.embedder = embedder
        self.margin = margin
        rows: dict[str, list[int]] = {}
        self.titles: dict[str, list[str]] = {}
        for i, sid in enumerate(index.sentence_ids):  # one pass: a sentence id starts with its chunk's id
            chunk = index.by_id.get(sid.split(":", 1)[0])
            if chunk is not None and chunk.topic not in GENERAL_TOPICS:
                rows.setdefault(chunk.topic, []).append(i)
                self.titles.setdefault(chunk.topic, []).append(chunk.title)
        self.rows = {topic: np.asarray(found, dtype=np.int64) for topic, found in sorted(rows.items())}
        self.vectors = index.sentence_vectors

    def of(self, description: str) -> BusinessTopic | None:
        """The cluster the description belongs to, or None when no cluster clearly leads."""
        if not description.strip() or not self.rows:
            return None
        vector = self.embedder.embed_query_vectors([description])[0]
        scored = []
        for topic, rows in self.rows.items():
            similarities = self.vectors[rows] @ vector
            top = np.argsort(similarities)[::-1][:TOP_SENTENCES]
            scored.append((float(similarities[top].mean()), topic, self.titles[topic][int(top[0])]))
        scored.sort(reverse=True)
        best, runner_up = scored[0], scored[1] if len(scored) > 1 else (0.0, "", "")
        lead = best[0] - runner_up[0]
        if lead < self.margin:
            return None
        return BusinessTopic(topic=best[1], title=best[2], score=best[0], lead=lead)
