"""Warm latency of enquiries of about 150 words (an e-mail with background and three questions).

Usage: .venv/bin/python bench/enquiry_latency.py [--rounds 5]
The e-mails below are the benchmark's own (not from an evaluation set). Each is answered `rounds` times after a
warm-up, in one process, one at a time; the query-vector memory is cleared before each, so only what an enquiry
repeats itself is remembered.
"""

from __future__ import annotations

import argparse
import time

from _common import forget_queries, machine, percentile

ENQUIRIES = [
    """Sehr geehrte Damen und Herren,

wir sind ein junges Unternehmen aus Harburg mit zwölf Mitarbeiterinnen und Mitarbeitern. Wir entwickeln Software,
mit der Speditionen ihre Lkw-Flotten planen, Leerfahrten vermeiden und Ladezeiten an den Terminals abstimmen. Bisher
arbeiten wir vor allem mit Kunden aus Niedersachsen zusammen, möchten aber in Hamburg stärker Fuß fassen und suchen
dafür Partner aus Wirtschaft und Wissenschaft. Dazu habe ich einige Fragen. Gibt es in Hamburg ein Netzwerk, in dem
sich Unternehmen unserer Branche austauschen, und wer betreibt es? Welche Projekte oder Arbeitsgruppen gibt es dort
zu Digitalisierung und Nachhaltigkeit im Güterverkehr? Und kann man als kleines Unternehmen Mitglied werden, und was
kostet das ungefähr? Über eine kurze Antwort mit Hinweisen, wo ich weitere Informationen finde, würde ich mich sehr
freuen. Vielen Dank im Voraus für Ihre Mühe.

Mit freundlichen Grüßen
Jana Beispiel
Beispiel Logistiksoftware GmbH
""",
    """Hallo zusammen,

ich leite eine kleine Rösterei in Ottensen. Wir rösten Kaffee aus fairem Handel, beliefern Cafés und Hotels in der
Stadt und verkaufen inzwischen auch online. Wir wachsen, brauchen bald eine größere Halle und überlegen, mit anderen
Betrieben aus der Lebensmittelbranche gemeinsam Verpackungen ohne Plastik zu entwickeln. Deshalb würde ich gern
wissen, ob die Stadt für solche Betriebe ein Cluster oder eine Initiative unterstützt und wie diese heißt. Außerdem
interessiert mich, welche Themen dort im Vordergrund stehen, zum Beispiel Nachhaltigkeit oder Innovation. Gibt es
dort Veranstaltungen, bei denen man andere Unternehmen kennenlernen kann? Und an wen wende ich mich am besten, wenn
ich mich über eine Mitgliedschaft informieren möchte? Ich freue mich über eine Rückmeldung, gern auch mit Links zu
den passenden Seiten, damit ich mich selbst weiter einlesen kann. Vielen Dank!

Viele Grüße
Tom Muster
""",
    """Dear Sir or Madam,

I am the managing director of a company near Hamburg that builds cabin interiors for regional aircraft: seats,
galleys and lighting. We employ around sixty people and supply two large manufacturers, and we are now planning to
open a small engineering office inside the city so that we are closer to our customers and to research
institutes. Before we decide, I would like to understand how the city supports our industry. Is there a cluster
organisation for our sector in Hamburg, and who manages it? Which research facilities or shared centres could a
company like ours work with? Does the cluster run programmes for start-ups or small suppliers that want to enter
new markets? Any pointers to the relevant web pages would be very helpful, as we will share them with our board
next month. Thank you very much for your time and help.

Kind regards,
Alex Sample
Sample Cabin Systems Ltd.
""",
    """Hello,

our start-up develops small sensors that measure the air quality inside hospital rooms and send the data to the
building management system. We are five founders with backgrounds in medicine and electrical engineering, and we
have just finished our first pilot with a clinic. Now we are looking for partners, investors and advice on how
to grow our team in Hamburg. I have three questions. First, which cluster in Hamburg is the right one for a
company that combines health care and technology, and what does it offer its members? Second, are there
innovation programmes, competitions or funding schemes that the cluster or the city promotes for young companies
like ours? Third, how are the clusters in Hamburg financed and organised, and who decides what they work on? We
would be grateful for short answers and links where we can read more. Many thanks in advance.

Best wishes,
Sam Example
""",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from assistant.service import Assistant

    assistant = Assistant()
    words = [len(text.split()) for text in ENQUIRIES]
    for text in ENQUIRIES:
        assistant.ask(text)
    wall: list[float] = []
    for _ in range(args.rounds):
        for text in ENQUIRIES:
            forget_queries(assistant)
            started = time.perf_counter()
            result = assistant.ask(text)
            wall.append((time.perf_counter() - started) * 1000)
            assert result.questions, "every e-mail here is read as an enquiry"
    print(f"machine: {machine()}; {len(wall)} enquiries ({len(ENQUIRIES)} distinct, {min(words)}-{max(words)} words)")
    print("| | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    print(f"| enquiry (`ask`) | {percentile(wall, 50):.1f} | {percentile(wall, 95):.1f} | {max(wall):.1f} |")


if __name__ == "__main__":
    main()
