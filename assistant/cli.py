"""The `assistant` command line: a thin shell over the package's services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from assistant.corpus import load_corpus
from assistant.settings import Settings, get_settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Cluster Assistant for Hamburg's cluster policy."
)
corpus_app = typer.Typer(no_args_is_help=True, help="Validate and inspect the source documents.")
app.add_typer(corpus_app, name="corpus")

out = Console()
err = Console(stderr=True)

CorpusDirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Corpus folder (default: CORPUS_DIR setting).", show_default=False),
]


@corpus_app.command("check")
def corpus_check(corpus_dir: CorpusDirOption = None) -> None:
    """Validate every document; exit 1 naming file and field of each problem."""
    folder = corpus_dir or get_settings().corpus_dir
    report = load_corpus(folder)
    if not report.ok:
        for problem in report.errors:
            err.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        err.print(f"{len(report.errors)} problem(s) in {folder}", highlight=False)
        raise typer.Exit(1)
    langs = {lang: sum(d.lang == lang for d in report.documents) for lang in ("de", "en")}
    out.print(
        f"{len(report.documents)} valid documents in {folder} (de: {langs['de']}, en: {langs['en']})",
        highlight=False,
    )


@corpus_app.command("list")
def corpus_list(corpus_dir: CorpusDirOption = None) -> None:
    """Print a table of the documents."""
    folder = corpus_dir or get_settings().corpus_dir
    report = load_corpus(folder)
    table = Table()
    for name in ("id", "lang", "topic", "sources", "reviewed", "file"):
        table.add_column(name, no_wrap=True)
    table.add_column("title", min_width=20)
    for doc in sorted(report.documents, key=lambda d: (d.topic != "policy", d.topic, d.id)):
        path = doc.path.relative_to(folder) if doc.path.is_relative_to(folder) else doc.path
        table.add_row(
            doc.id, doc.lang, doc.topic, str(len(doc.sources)), str(doc.reviewed), str(path), doc.title
        )
    Console(width=max(out.width, 150)).print(table)
    if report.errors:
        err.print(f"{len(report.errors)} problem(s); run `assistant corpus check` for details.")
        raise typer.Exit(1)


@app.command("settings")
def show_settings() -> None:
    """Print every setting with its environment variable, current value and meaning."""
    current = get_settings()
    table = Table("variable", "value", "meaning")
    for name, info in Settings.model_fields.items():
        table.add_row(name.upper(), str(getattr(current, name)), info.description or "")
    out.print(table)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
