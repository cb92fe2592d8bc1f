"""Chainlit chat: a thin shell over the shared Assistant service.

Each answer streams into the chat and lists its cited passages as source
elements named [1], [2], ... so each citation marker in the text opens its passage.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal, cast

import chainlit as cl

from assistant import messages
from assistant.chat_guard import CUT_MARK
from assistant.language import ui_language
from assistant.runtime import get_assistant, get_chat_guard
from assistant.schema import AskResult, answer_markdown
from assistant.settings import get_settings
from assistant.storage import PrivateDataLayer, make_data_layer

log = logging.getLogger("assistant.chat")
HISTORY_KEY = "history"
STARTER_ACTION = "starter"


def _session_language() -> str:
    """The browser's language (Accept-Language of the chat connection), German by default."""
    environ = getattr(cl.context.session, "environ", None) or {}
    return ui_language(environ.get("HTTP_ACCEPT_LANGUAGE"), default=get_assistant().settings.default_language)


_data_layer = make_data_layer(get_settings())
if _data_layer is not None:  # with storage switched off there is no data layer, hence no feedback buttons

    @cl.data_layer
    def data_layer() -> PrivateDataLayer:
        assert _data_layer is not None
        return _data_layer


@cl.on_chat_start
async def start() -> None:
    """Greet in the browser's language, with the starter questions as buttons under the greeting."""
    cl.user_session.set(HISTORY_KEY, [])
    lang = _session_language()
    starters = [
        cl.Action(name=STARTER_ACTION, payload={"index": n}, label=item["label"])
        for n, item in enumerate(messages.messages(lang)["starters"])
    ]
    # the note that answers come from their sources is the footer (translations "watermark"): once, always in view
    await cl.Message(content=messages.text(lang, "welcome"), actions=starters).send()


@cl.action_callback(STARTER_ACTION)
async def on_starter(action: cl.Action) -> None:
    """A starter button asks its question as if the user had typed it (the question is ours, not the client's),
    within the chat's limits like a typed one (those are checked by the chat guard before Chainlit sees them)."""
    starters = messages.messages(_session_language())["starters"]
    index = action.payload.get("index")
    if not isinstance(index, int) or not 0 <= index < len(starters):
        return
    guard, session = get_chat_guard(), cl.context.session
    notice = await guard.admit(session)
    if notice:
        await guard.notify(session, notice)
        return
    with guard.answering(session.id):
        question = str(starters[index]["message"])
        asked = cl.Message(content=question, type="user_message", author="User")
        await asked.send()
        async with cl.Step(name="on_message", type="run", parent_id=asked.id):  # as Chainlit runs on_message
            await answer(question)


def source_elements(result: AskResult, client_type: str = "webapp") -> list[cl.Text]:
    """One element per citation (title, link, the quoted passage), opened from its [n] in the text.

    The full chat shows them in its side panel; the widget opens them on click only, because there
    a side element would pop up as a dialog over the host page after every answer.
    """
    display: Literal["page", "side"] = "page" if client_type == "copilot" else "side"
    elements = []
    for c in result.citations:
        body = f"**{c.title}**\n\n{c.section}\n\n> {c.text}\n\n{c.url}"
        elements.append(cl.Text(name=f"[{c.n}]", content=body, display=display, language=None))
    if result.more:  # "Mehr dazu": collapsed behind its name at the end of the answer, opened on click
        name = messages.text(result.language, "more_heading")
        elements.append(cl.Text(name=name, content=result.more, display=display, language=None))
    return elements


@cl.on_message
async def on_message(message: cl.Message) -> None:
    """A typed question, admitted by the chat guard (limits, one at a time) before it got here."""
    await answer(message.content, truncated=bool((message.metadata or {}).get(CUT_MARK)))


async def answer(question: str, truncated: bool = False) -> None:
    """Stream the answer, attach its sources, remember the question for follow-ups."""
    assistant = get_assistant()
    history: list[str] = cl.user_session.get(HISTORY_KEY) or []
    fallback = _session_language()
    reply = cl.Message(content="", metadata={})
    loop = asyncio.get_running_loop()
    tokens: asyncio.Queue[str] = asyncio.Queue()

    def on_token(token: str) -> None:  # called from the LLM thread as cited sentences are released
        loop.call_soon_threadsafe(tokens.put_nowait, token)

    task = asyncio.ensure_future(
        assistant.aask(question, list(history), fallback_language=fallback, on_token=on_token, truncated=truncated)
    )
    try:
        while not (task.done() and tokens.empty()):
            try:
                token = await asyncio.wait_for(tokens.get(), timeout=0.1)
            except TimeoutError:
                continue
            await reply.stream_token(token)
    finally:  # stopped or disconnected: the answer stops too (an LLM request is cancelled)
        if not task.done():
            task.cancel()
    try:
        result = task.result()
    except Exception:  # noqa: BLE001 - the chat must answer something, never hang
        log.exception("answering failed")
        await cl.Message(content=messages.text(fallback, "error")).send()
        return
    if not (result.refused or result.smalltalk or result.questions):  # only questions answered are context
        history.append(question[: assistant.settings.max_question_chars])
        kept = assistant.settings.chat_history_kept
        cl.user_session.set(HISTORY_KEY, history[-kept:] if kept else [])
    text = answer_markdown(result, more_inline=False)
    # Message.elements is typed with a type variable of Element; a list of Text is what it holds
    reply.elements = cast(list[Any], source_elements(result, getattr(cl.context.session, "client_type", "webapp")))
    reply.metadata = {  # for the staff report (the data layer removes personal data before storing it)
        "question": question[:500],
        "refused": result.refused,
        "smalltalk": result.smalltalk,
        "language": result.language,
        "mode": result.mode,
        "citations": [c.doc_id for c in result.citations],
    }
    # The final text is authoritative (cleaned citations, or the extractive fallback). An answer that was not
    # generated token by token is ready as a whole and is shown at once, not dribbled out.
    reply.content = text
    await reply.send()
    if result.draft_reply:  # an enquiry: the draft reply on its own, so its copy button copies just the draft
        await cl.Message(content=result.draft_reply, metadata={"draft_reply": True}).send()
