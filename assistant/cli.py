"""The `assistant` command line: a thin shell over the package's services."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.corpus import load_corpus
from assistant.settings import PROJECT_ROOT, Settings, get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Cluster Assistant for Hamburg's cluster policy.")
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
            err.print(f"[red]error[/red] {escape(str(problem))}", highlight=False, soft_wrap=True)
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
        table.add_row(doc.id, doc.lang, doc.topic, str(len(doc.sources)), str(doc.reviewed), str(path), doc.title)
    Console(width=max(out.width, 150)).print(table)
    if report.errors:
        err.print(f"{len(report.errors)} problem(s); run `assistant corpus check` for details.")
        raise typer.Exit(1)


class _ProgressBar:
    """A rich progress bar fed by the index's (stage, done, total) callbacks; shown only once work starts."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
        )
        self.task: TaskID | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(stage, total=total)
        self.progress.update(self.task, description=stage, completed=done, total=total)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.task is not None:
            self.progress.stop()


def _progress_bar() -> tuple[_ProgressBar, _ProgressBar]:
    bar = _ProgressBar()
    return bar, bar


def _open_assistant(settings: Settings | None = None):
    """The Assistant service, building or updating the index with a progress bar when needed."""
    from assistant.index import IndexUnavailable
    from assistant.service import Assistant

    progress, update = _progress_bar()
    try:
        with progress:
            assistant = Assistant(settings or get_settings(), progress=update)
    except IndexUnavailable as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    except ValueError as exc:  # e.g. an unknown EMBEDDER
        err.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    if assistant.index_update is not None:
        _print_summary(assistant.index_update)
    return assistant


def _print_summary(summary) -> None:
    if summary.rebuilt_because:
        err.print(f"index rebuilt: {summary.rebuilt_because}", highlight=False)
    err.print(
        f"index: {summary.added} added, {summary.unchanged} unchanged, {summary.removed} removed chunks "
        f"({summary.sentences_added} sentences embedded) in {summary.seconds:.1f} s; {summary.total} chunks in all",
        highlight=False,
    )


@app.command("index")
def build_index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and embed everything again.")] = False,
) -> None:
    """Build or update the index (only new or changed passages are embedded)."""
    from assistant.embeddings import make_embedder
    from assistant.index import IndexUnavailable, update_index

    settings = get_settings()
    try:
        embedder = make_embedder(
            settings.embedder, settings.embedder_prefixes, settings.embedder_threads, settings.max_query_tokens
        )
    except ValueError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    progress, update = _progress_bar()
    try:
        with progress:
            summary = update_index(settings, embedder, update, rebuild=rebuild)
    except IndexUnavailable as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    _print_summary(summary)


@app.command("ask")
def ask(
    question: Annotated[str, typer.Argument(help="The question, in German or English.")],
    history: Annotated[
        list[str] | None,
        typer.Option("--history", help="An earlier question of the conversation (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    language: Annotated[str | None, typer.Option("--language", help="Force the answer language (de|en).")] = None,
) -> None:
    """Answer a question with cited passages."""
    from assistant import messages

    assistant = _open_assistant()
    streamed: list[str] = []

    def show_token(token: str) -> None:  # generated answers appear as they arrive
        streamed.append(token)
        sys.stdout.write(token)
        sys.stdout.flush()

    result = assistant.ask(question, history or [], language=language, on_token=None if as_json else show_token)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    if streamed:
        print()
    if result.mode != "llm" or not streamed:
        if streamed and result.fallback_reason:
            out.print(
                f"\n({messages.text(result.language, 'llm_fallback', reason=result.fallback_reason)})\n",
                highlight=False,
                markup=False,
            )
        out.print(result.answer, highlight=False, markup=False)
    for note in result.notes:
        out.print(f"({note})", highlight=False, markup=False)
    if result.more:  # staff read everything: "more on this" follows the answer in the terminal
        out.print(f"\n{messages.text(result.language, 'more_heading')}:", highlight=False)
        out.print(result.more, highlight=False, markup=False)
    if result.citations:
        out.print(f"\n{messages.text(result.language, 'sources_heading')}:", highlight=False)
        for c in result.citations:
            out.print(f"[{c.n}] {c.title} – {c.section}\n    {c.url}", highlight=False, markup=False)
            out.print(
                f"    „{c.text}“" if c.lang == "de" else f"    \u201c{c.text}\u201d",
                highlight=False,
                markup=False,
            )
    if result.draft_reply:  # an enquiry: the reply to paste, after the answers and their sources
        out.print(f"\n{'-' * 60}\n{result.draft_reply}", highlight=False, markup=False)


@app.command("enquiry")
def enquiry(
    path: Annotated[Path, typer.Argument(help="A text file holding the e-mail (UTF-8).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    language: Annotated[str | None, typer.Option("--language", help="Force the answer language (de|en).")] = None,
) -> None:
    """Answer each question of an e-mail enquiry with its sources, and print a draft reply."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"Cannot read {path}: {exc}")
        raise typer.Exit(2) from exc
    if not text.strip():
        err.print(f"{path} is empty: there is no enquiry to answer.")
        raise typer.Exit(2)
    ask(text, None, as_json, language)


@app.command("eval")
def evaluate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Questions as JSON lines.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write every question and result here (JSON).")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Citations counted for hit@k.")] = 3,
    part: Annotated[
        str, typer.Option("--part", help="all, or the tuning or test part of the set (eval/split.json).")
    ] = "all",
) -> None:
    """Run a question file and print quality metrics overall, per kind and per language."""
    from assistant.evaluation import breakdown, load_questions, run_eval, select_part

    try:
        questions = select_part(load_questions(file), file.name, part)
    except ValueError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    assistant = _open_assistant()
    records = run_eval(lambda q, h: assistant.ask(q, h).model_dump(), questions)
    table = breakdown(records, k)
    _print_metrics(table, k)
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(
            json.dumps(
                {"file": str(file), "part": part, "k": k, "metrics": table, "results": records},
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        err.print(f"report written to {out_file}", highlight=False)


def _print_metrics(table: dict[str, dict], k: int) -> None:
    from assistant.evaluation import cell, metric_columns

    columns = metric_columns(k)
    view = Table("group", *columns)
    for group, metrics in table.items():
        view.add_row(group, *(cell(column, metrics.get(column)) for column in columns))
    Console(width=max(out.width, 160)).print(view)


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default: HOST setting).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT setting).")] = None,
) -> None:
    """Start the chat, its embeddable widget and the API on one port (builds the index first if needed)."""
    from assistant.runtime import get_limiter, set_assistant
    from assistant.server import serve as run_server

    try:
        get_limiter()  # a RATE_LIMIT_STORAGE that cannot be used is said now, in one line
    except ValueError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    set_assistant(_open_assistant())
    settings = get_settings()
    err.print(f"serving on http://{host or settings.host}:{port or settings.port}", highlight=False)
    run_server(host, port)


@app.command("report")
def staff_report(
    days: Annotated[int, typer.Option(min=1, help="Look back this many days.")] = 30,
    top: Annotated[int, typer.Option(min=1, help="How many refused questions to list.")] = 10,
) -> None:
    """For staff: questions per day, share refused, frequent refused questions, answers rated unhelpful."""
    import asyncio

    from assistant import storage

    settings = get_settings()
    if not settings.store_conversations:
        err.print("STORE_CONVERSATIONS is off: nothing is stored, so there is nothing to report.")
        raise typer.Exit(1)
    asyncio.run(storage.ensure_schema(settings))
    data = asyncio.run(storage.report(settings, days=days, top=top))
    out.print(f"Questions in the last {days} days: {data.total}, refused: {data.refused} ({data.refused_share:.0%})")
    per_day = Table("day", "questions", "refused")
    for day, count in data.per_day.items():
        per_day.add_row(day, str(count), str(data.refused_per_day.get(day, 0)))
    out.print(per_day)
    out.print(f"\nMost frequent refused questions (personal data removed): {len(data.top_refused)}", highlight=False)
    for question, count in data.top_refused:
        out.print(f"- {count}× {question}", highlight=False, markup=False, soft_wrap=True)
    out.print(f"\nAnswers rated unhelpful: {len(data.negative)}", highlight=False)
    for item in data.negative:
        answer = " ".join(item["answer"].split())[:200]
        out.print(
            f"- {item['day']}  question: {item['question']}\n    comment: {item['comment'] or '(none)'}\n"
            f"    answer: {answer}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@app.command("purge")
def purge_old(
    days: Annotated[
        int | None, typer.Option(min=0, help="Delete threads older than this (default: RETENTION_DAYS).")
    ] = None,
) -> None:
    """Delete stored threads, messages and feedback older than the retention period."""
    import asyncio

    from assistant import storage

    settings = get_settings()
    if not settings.store_conversations:
        out.print("STORE_CONVERSATIONS is off: nothing is stored.")
        return
    asyncio.run(storage.ensure_schema(settings))
    removed = asyncio.run(storage.purge(settings, days=days))
    keep = settings.retention_days if days is None else days
    out.print(f"deleted {removed} threads older than {keep} days", highlight=False)


staff_app = typer.Typer(no_args_is_help=True, help="Accounts for the staff page (/staff).")
app.add_typer(staff_app, name="staff")


def _new_password(from_stdin: bool) -> str:
    """The password: one line of standard input (for scripts), else asked for twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Argument(help="The account name (letters, digits, . _ @ -).")],
    purge: Annotated[bool, typer.Option("--purge", help="May also delete stored conversations on the page.")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create or change a staff account; the password is asked for and stored only as an argon2 hash."""
    from assistant.staff_accounts import AccountError, write_account

    settings = get_settings()
    try:
        write_account(settings.staff_accounts_path, name, _new_password(password_stdin), purge)
    except AccountError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    out.print(f"account {name} saved in {settings.staff_accounts_path}", highlight=False, markup=False)


@staff_app.command("remove")
def staff_remove(name: Annotated[str, typer.Argument(help="The account name.")]) -> None:
    """Delete a staff account (its open sessions end with it)."""
    from assistant.staff_accounts import remove_account

    settings = get_settings()
    if not remove_account(settings.staff_accounts_path, name):
        err.print(f"no account {name} in {settings.staff_accounts_path}", highlight=False, markup=False)
        raise typer.Exit(1)
    out.print(f"account {name} removed", highlight=False, markup=False)


@staff_app.command("list")
def staff_list() -> None:
    """The staff accounts and whether each may delete conversations (never a hash or password)."""
    from assistant.staff_accounts import load_accounts

    for account in load_accounts(get_settings()).values():
        out.print(f"{account.name}{'  (may purge)' if account.purge else ''}", highlight=False, markup=False)


@staff_app.command("hash")
def staff_hash(
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Print an argon2 hash of a password, for STAFF_ACCOUNTS in the environment."""
    from assistant.staff_accounts import AccountError, hash_password

    try:
        print(hash_password(_new_password(password_stdin)))
    except AccountError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


@app.command("settings")
def show_settings(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the defaults as a Markdown table.")] = False,
) -> None:
    """Print every setting with its environment variable, current value and meaning."""
    if markdown:
        print("| variable | default | meaning |\n|---|---|---|")
        for name, info in Settings.model_fields.items():
            default = info.get_default(call_default_factory=True)
            if isinstance(default, Path):
                default = (
                    f"{default.relative_to(PROJECT_ROOT)}/ of the checkout"
                    if default.is_relative_to(PROJECT_ROOT)
                    else default
                )
            print(f"| `{name.upper()}` | `{default}` | {info.description or ''} |")
        return
    current = get_settings()
    table = Table("variable", "value", "meaning")
    for name, info in Settings.model_fields.items():
        table.add_row(name.upper(), str(getattr(current, name)), info.description or "")
    out.print(table)


def _settings_or_exit() -> Settings:
    """The settings, or one line per invalid setting and exit code 2 (not a traceback)."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(part) for part in error.get("loc", ())).upper() or "settings"
            err.print(
                f"[red]error[/red] invalid setting {name}: {escape(str(error.get('msg')))}",
                highlight=False,
                soft_wrap=True,
            )
        raise SystemExit(2) from None


def main() -> None:
    """Console-script entry point."""
    from assistant.webui import scrub_chainlit_env

    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    for name in scrub_chainlit_env():
        err.print(f"note: ignoring the environment variable {name} (Chainlit would read it as its configuration)")
    settings = _settings_or_exit()
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "chromadb", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
