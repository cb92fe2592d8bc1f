"""Structure-aware chunking: headings, paragraphs, whole list items, lead-ins, stable ids, section links."""

from __future__ import annotations

from pathlib import Path

from assistant.answer import cite
from assistant.chunking import chunk_document
from assistant.corpus import load_document
from assistant.sentences import split_sentences
from tests.conftest import write_doc

BODY = """
Einleitung ohne Überschrift. Sie hat zwei Sätze.
<!-- src: 1 -->

## Projekte

Das Cluster betreibt mehrere Projekte. Diese Projekte sind wichtig:

- ZAL in Finkenwerder: eröffnet 2016, mit rund 600 Arbeitsplätzen.
- Drohnennetzwerk Windrove: seit 2017
  mit einer zweiten Zeile, die zum selben Punkt gehört.
  - Unterpunkt A des Netzwerks
- **Crystal Cabin Award**: ein [Preis](https://example.org) für Kabinen.

### Förderung

Ein Absatz unter einer Unterüberschrift.
<!-- src: 2 -->
"""


def _chunks(tmp_path: Path, write: bool = True):
    path = write_doc(tmp_path, "de", "aviation", BODY, title="Luftfahrt") if write else tmp_path / "de" / "aviation.md"
    doc, errors = load_document(path)
    assert doc is not None, errors
    return chunk_document(doc)


def test_paragraphs_lists_and_headings(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    kinds = [(c.kind, c.section) for c in chunks]
    assert kinds == [
        ("paragraph", "Luftfahrt"),
        ("paragraph", "Projekte"),
        ("lead", "Projekte"),
        ("list_item", "Projekte"),
        ("list_item", "Projekte"),
        ("list_item", "Projekte"),
        ("paragraph", "Projekte › Förderung"),
    ]
    assert chunks[1].text == "Das Cluster betreibt mehrere Projekte."
    assert chunks[2].text == "Diese Projekte sind wichtig:"


def test_list_item_stays_whole_with_wrapped_lines_and_sub_items(tmp_path: Path) -> None:
    item = _chunks(tmp_path)[4]
    assert item.text == (
        "Drohnennetzwerk Windrove: seit 2017 mit einer zweiten Zeile, die zum selben Punkt gehört.; "
        "Unterpunkt A des Netzwerks"
    )
    assert item.sentences == (item.text,)


def test_context_carries_title_section_and_lead(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    item = chunks[3]
    assert item.context == "Luftfahrt – Projekte\nDiese Projekte sind wichtig:"
    assert item.embed_text.endswith("ZAL in Finkenwerder: eröffnet 2016, mit rund 600 Arbeitsplätzen.")
    assert chunks[5].text == "Crystal Cabin Award: ein Preis für Kabinen."  # Markdown markup removed
    assert len({c.list_id for c in chunks[2:6]}) == 1 and chunks[2].list_id is not None


def test_section_source_marker_sets_the_link(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    assert chunks[0].url == "https://example.org/aviation"
    assert chunks[-1].url == "https://example.org/aviation/second"
    assert chunks[3].url == "https://example.org/aviation"  # section without marker: document link


def test_ids_are_stable_and_change_with_content(tmp_path: Path) -> None:
    first = [c.id for c in _chunks(tmp_path)]
    again = [c.id for c in _chunks(tmp_path)]
    assert first == again and len(set(first)) == len(first)
    path = tmp_path / "de" / "aviation.md"
    path.write_text(path.read_text(encoding="utf-8").replace("600", "700"), encoding="utf-8")
    changed = [c.id for c in _chunks(tmp_path, write=False)]
    assert [a == b for a, b in zip(first, changed, strict=True)] == [True, True, True, False, True, True, True]


def test_sentence_splitter_keeps_abbreviations_and_ordinals() -> None:
    text = (
        "Das ZAL wurde am 26. Mai 2011 eröffnet, u. a. mit Airbus. Michael E. Porter prägte den Begriff. "
        "Die Förderung betrug ca. 2 Mio. Euro, z. B. für Drs. 22/5588. Sie endete 2020. Then: done!"
    )
    assert split_sentences(text) == [
        "Das ZAL wurde am 26. Mai 2011 eröffnet, u. a. mit Airbus.",
        "Michael E. Porter prägte den Begriff.",
        "Die Förderung betrug ca. 2 Mio. Euro, z. B. für Drs. 22/5588.",
        "Sie endete 2020.",
        "Then: done!",
    ]


def test_sentence_splitter_ends_sentences_at_legal_forms_only_before_a_capital() -> None:
    text = (
        "Organisiert wird es von der FCH Finance City Hamburg GmbH. Gegründet wurde sie 2023. "
        "Träger ist der Maritimes Cluster Norddeutschland e.V. (MCN) mit foodactive e.V. mit 44 Prozent, "
        "Gruner + Jahr GmbH & Co. KG und dem Verein Logistik-Initiative Hamburg e.V. Die Arbeit macht die GmbH."
    )
    assert split_sentences(text) == [
        "Organisiert wird es von der FCH Finance City Hamburg GmbH.",
        "Gegründet wurde sie 2023.",
        "Träger ist der Maritimes Cluster Norddeutschland e.V. (MCN) mit foodactive e.V. mit 44 Prozent, "
        "Gruner + Jahr GmbH & Co. KG und dem Verein Logistik-Initiative Hamburg e.V.",
        "Die Arbeit macht die GmbH.",
    ]


def test_citation_marks_go_before_a_full_stop_but_after_an_abbreviation() -> None:
    assert cite("Den Verein trägt die Logistik-Initiative Hamburg e.V. Der Hafen ist groß.", 2) == (
        "Den Verein trägt die Logistik-Initiative Hamburg e.V. [2] Der Hafen ist groß [2]."
    )
    assert cite("Sie kam aus Hamburg. Wirklich?", 1) == "Sie kam aus Hamburg [1]. Wirklich [1]?"


def test_a_list_item_opening_with_a_day_keeps_it(tmp_path: Path) -> None:
    """'- 27. November 2024: …' is Markdown for a list numbered from 27 inside the item; the day is part of the text."""
    body = "## Steps\n\nThe steps:\n\n- 27. November 2024: The cluster held its opening event.\n- 2025: It grew.\n"
    body += "<!-- src: 1 -->\n"
    doc, errors = load_document(write_doc(tmp_path, "en", "steps", body))
    assert doc is not None, errors
    chunks = chunk_document(doc)
    items = [c.text for c in chunks if c.kind == "list_item"]
    assert items == ["27. November 2024: The cluster held its opening event.", "2025: It grew."]
