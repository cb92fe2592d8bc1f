"""Corpus validation: every rule on small corpora in a temporary folder, and the real corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.corpus import TOPICS, load_corpus
from assistant.settings import PROJECT_ROOT

runner = CliRunner()

DE = """---
id: {id}
title: "Luftfahrt in Hamburg"
lang: de
topic: {topic}
sources:
  - {url}
reviewed: 2026-11-25
{extra}---

## Überblick

Das Luftfahrtcluster verbindet Unternehmen und Forschung.
<!-- src: 1 -->
"""

EN = """---
id: {id}
title: "Aviation in Hamburg"
lang: en
topic: {topic}
sources:
  - https://www.hamburg-aviation.de
translation_of: {original}
reviewed: 2026-11-25
---

## Overview

The aviation cluster connects companies and research.
<!-- src: 1 -->
"""


def write_pair(
    folder: Path,
    name: str = "aviation",
    *,
    topic: str = "aviation",
    url: str = "https://www.hamburg-aviation.de",
    extra: str = "",
    de_id: str | None = None,
    en_id: str | None = None,
    original: str | None = None,
) -> tuple[Path, Path]:
    de_id = de_id or f"{name}-de"
    (folder / "de").mkdir(parents=True, exist_ok=True)
    (folder / "en").mkdir(parents=True, exist_ok=True)
    de = folder / "de" / f"{name}.md"
    en = folder / "en" / f"{name}.md"
    de.write_text(DE.format(id=de_id, topic=topic, url=url, extra=extra), encoding="utf-8")
    en.write_text(EN.format(id=en_id or f"{name}-en", topic=topic, original=original or de_id), encoding="utf-8")
    return de, en


def check(folder: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["corpus", "check", "--dir", str(folder)])
    return result.exit_code, result.output


def test_valid_pair_passes(tmp_path: Path) -> None:
    write_pair(tmp_path)
    code, output = check(tmp_path)
    assert code == 0, output
    assert "2 valid documents" in output


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("field", ["id", "title", "lang", "topic", "sources", "reviewed"])
def test_missing_field_is_named(tmp_path: Path, field: str) -> None:
    de, _ = write_pair(tmp_path)
    lines = de.read_text(encoding="utf-8").splitlines(keepends=True)
    kept, skipping = [], False
    for line in lines:
        if line.startswith(f"{field}:"):
            skipping = True
            continue
        if skipping and line.startswith("  - "):
            continue
        skipping = False
        kept.append(line)
    de.write_text("".join(kept), encoding="utf-8")
    code, output = check(tmp_path)
    assert code == 1
    assert f"de/aviation.md: {field}: missing required field" in output


def test_unknown_field(tmp_path: Path) -> None:
    write_pair(tmp_path, extra="author: someone\n")
    code, output = check(tmp_path)
    assert code == 1
    assert "de/aviation.md: author: unknown field" in output


def test_duplicate_ids(tmp_path: Path) -> None:
    write_pair(tmp_path, "aviation")
    write_pair(tmp_path, "aviation2", de_id="aviation-de", en_id="aviation2-en")
    code, output = check(tmp_path)
    assert code == 1
    assert "id: duplicate id 'aviation-de'" in output


def test_unknown_topic(tmp_path: Path) -> None:
    write_pair(tmp_path, topic="space")
    code, output = check(tmp_path)
    assert code == 1
    assert "de/aviation.md: topic: unknown topic 'space'" in output


def test_english_without_german_original(tmp_path: Path) -> None:
    write_pair(tmp_path, original="nonexistent-de")
    code, output = check(tmp_path)
    assert code == 1
    assert "en/aviation.md: translation_of: German original 'nonexistent-de' not found" in output


def test_german_without_english_translation(tmp_path: Path) -> None:
    _, en = write_pair(tmp_path)
    en.unlink()
    code, output = check(tmp_path)
    assert code == 1
    assert "de/aviation.md: translation_of: no English translation of 'aviation-de' found" in output


def test_english_missing_translation_of(tmp_path: Path) -> None:
    _, en = write_pair(tmp_path)
    _replace(en, "translation_of: aviation-de\n", "")
    code, output = check(tmp_path)
    assert code == 1
    assert "en/aviation.md: translation_of: English documents must name" in output


def test_empty_body(tmp_path: Path) -> None:
    de, _ = write_pair(tmp_path)
    text = de.read_text(encoding="utf-8")
    de.write_text(text[: text.index("## Überblick")] + "\n<!-- src: 1 -->\n  \n", encoding="utf-8")
    code, output = check(tmp_path)
    assert code == 1
    assert "de/aviation.md: body: document has no text" in output


@pytest.mark.parametrize("url", ["www.hamburg-aviation.de", "ftp://example.org/x", "https://", "https://exa mple.org"])
def test_malformed_url(tmp_path: Path, url: str) -> None:
    write_pair(tmp_path, url=f'"{url}"')
    code, output = check(tmp_path)
    assert code == 1
    assert "de/aviation.md: sources: entry 1 is not a valid http(s) URL" in output


def test_source_marker_out_of_range(tmp_path: Path) -> None:
    de, _ = write_pair(tmp_path)
    _replace(de, "<!-- src: 1 -->", "<!-- src: 1 2 -->")
    code, output = check(tmp_path)
    assert code == 1
    assert "source marker names '2'" in output


def test_invalid_yaml_and_missing_front_matter(tmp_path: Path) -> None:
    de, en = write_pair(tmp_path)
    _replace(de, 'title: "Luftfahrt in Hamburg"', "title: [unclosed")
    en.write_text("No front matter here.\n", encoding="utf-8")
    code, output = check(tmp_path)
    assert code == 1
    assert "de/aviation.md: front matter: invalid YAML" in output
    assert "en/aviation.md: front matter: missing" in output


def test_bad_lang_and_date(tmp_path: Path) -> None:
    de, _ = write_pair(tmp_path)
    _replace(de, "lang: de", "lang: fr")
    _replace(de, "reviewed: 2026-11-25", "reviewed: last week")
    code, output = check(tmp_path)
    assert code == 1
    assert "lang: 'fr' is not one of de, en" in output
    assert "reviewed: 'last week' is not a date" in output


def test_missing_folder(tmp_path: Path) -> None:
    code, output = check(tmp_path / "nope")
    assert code == 1
    assert "corpus folder does not exist" in output


def test_real_corpus_is_valid_and_complete() -> None:
    report = load_corpus(PROJECT_ROOT / "corpus")
    assert report.ok, "\n".join(map(str, report.errors))
    docs = report.documents
    assert len(docs) == 22
    assert {d.topic for d in docs} == set(TOPICS)
    for topic in TOPICS:
        langs = sorted(d.lang for d in docs if d.topic == topic)
        assert langs == (["de", "de", "en", "en"] if topic == "policy" else ["de", "en"]), topic


def test_policy_text_is_verbatim() -> None:
    """Every line of the seed policy text appears unchanged in the German policy document."""
    seed = PROJECT_ROOT.parent / "shared" / "seed" / "clusterpolitik-hamburg.de.txt"
    if not seed.exists():
        pytest.skip("shared seed text not present beside this checkout")
    body = (PROJECT_ROOT / "corpus" / "de" / "policy_text.md").read_text(encoding="utf-8")
    for line in seed.read_text(encoding="utf-8").splitlines():
        if line.strip():
            assert line.strip() in body, line


def test_console_script_on_real_corpus(tmp_path: Path) -> None:
    """The installed `assistant` script runs as a subprocess, like a user runs it."""
    exe = Path(sys.executable).parent / "assistant"
    result = subprocess.run([str(exe), "corpus", "check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "22 valid documents" in result.stdout
    listing = subprocess.run([str(exe), "corpus", "list"], capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and "policy_text-de" in listing.stdout
    broken = tmp_path / "c"
    shutil.copytree(PROJECT_ROOT / "corpus", broken)
    (broken / "en" / "food.md").unlink()
    failed = subprocess.run([str(exe), "corpus", "check", "--dir", str(broken)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "no English translation of 'food-de'" in failed.stderr
