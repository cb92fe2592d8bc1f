"""User-facing texts in German and English, kept as files in prompts/ so editors can change them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
LANGUAGES = ("de", "en")
POLICY_URL = "https://www.hamburg.de/politik-und-verwaltung/behoerden/bwi/themen/clusterpolitik-903724"


@lru_cache(maxsize=8)
def messages(lang: str, folder: Path = PROMPTS_DIR) -> dict:
    """All texts of one language (falls back to German for unknown languages)."""
    lang = lang if lang in LANGUAGES else "de"
    return yaml.safe_load((folder / f"messages.{lang}.yaml").read_text(encoding="utf-8"))


def text(lang: str, key: str, **values: object) -> str:
    """One text, with its placeholders filled."""
    template = str(messages(lang)[key])
    return template.format(policy_url=POLICY_URL, **values).strip()
