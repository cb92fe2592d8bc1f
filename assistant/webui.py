"""The chat's web face: theme, local-only assets, allowed origins, and no IP addresses in logs.

Chainlit's page links Google Fonts and a KaTeX stylesheet from a CDN; for the city
website nothing may be fetched from third parties, so the page template is filtered.
Fonts are system fonts (theme.json's --font-sans); theme.json names an empty data: stylesheet
as its font file, because without one the widget would link Google Fonts, and with a path it
would fetch that path from the host page's server.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from collections.abc import MutableMapping
from pathlib import Path

from assistant.settings import PROJECT_ROOT, Settings

THEME_FILE = PROJECT_ROOT / "public" / "theme.json"
# Candidates for addresses; only those `ipaddress` accepts are masked ("16:54:58" is a time, not IPv6).
_IP_CANDIDATE = re.compile(
    r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"
    r"|(?<![\w:\[])\[?(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:%\w+)?\]?(?::\d{1,5})?(?![\w:])"
)


def mask_ips(text: str) -> str:
    """The text with every real IPv4 or IPv6 address (with or without a port) replaced by [ip]."""

    def mask(match: re.Match[str]) -> str:
        candidate = match.group(0)
        host = candidate
        if host.startswith("["):
            host = host[1:].split("]", 1)[0]
        elif host.count(":") == 1 and "." in host:  # IPv4 with a port
            host = host.split(":", 1)[0]
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return candidate
        return "[ip]"

    return _IP_CANDIDATE.sub(mask, text)


# Top-level fields of Chainlit's config (a pydantic BaseSettings without prefix): an environment variable of
# the same name ("PROJECT=foo", common in CI systems) makes importing Chainlit fail with a traceback.
CHAINLIT_CONFIG_FIELDS = ("root", "run", "features", "ui", "project", "code")


def scrub_chainlit_env(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Remove environment variables that Chainlit would read as its own configuration; returns their names."""
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    found = [name for name in env if name.lower() in CHAINLIT_CONFIG_FIELDS]
    for name in found:
        del env[name]
    return found


def load_theme(path: Path = THEME_FILE) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def configure_chainlit(settings: Settings) -> None:
    """Apply our settings to Chainlit's config before its server module is imported."""
    from chainlit.config import config

    theme = load_theme()
    config.project.allow_origins = settings.allowed_origins
    config.ui.name = theme.get("name") or config.ui.name
    config.ui.description = theme.get("description") or config.ui.description
    config.ui.custom_meta_image_url = "/logo"  # the page links nothing outside this server
    config.ui.custom_js = "/public/chat-ui.js"
    config.ui.custom_css = "/public/chat-ui.css"
    config.features.spontaneous_file_upload.enabled = False
    config.features.user_message_markdown = False  # a user's message is shown as typed: no image is fetched from it


def keep_page_local() -> None:
    """Filter Chainlit's HTML template: no preconnects, no CDN stylesheet, no external meta links."""
    import chainlit.server as cl_server

    original = getattr(cl_server.get_html_template, "__wrapped__", cl_server.get_html_template)

    def local_only(root_path: str) -> str:
        html = original(root_path)
        html = re.sub(r'<link\s+rel="preconnect"[^>]*>\s*', "", html)
        html = re.sub(r"<!-- FONT START -->.*?<!-- FONT END -->", "", html, flags=re.S)  # system fonts only
        html = re.sub(r'<link[^>]+href="https://cdn\.jsdelivr\.net/[^"]*"[^>]*>\s*', "", html)
        html = re.sub(r'<meta property="og:url" content="https?://[^"]*">', "", html)
        return html

    local_only.__wrapped__ = original  # type: ignore[attr-defined]
    cl_server.get_html_template = local_only


def logo_path(variant: str) -> Path:
    """The theme's logo file for "light" or "dark" (a path relative to the project)."""
    logo = load_theme().get("logo") or {}
    name = logo.get(variant) or logo.get("light") if isinstance(logo, dict) else logo
    path = (PROJECT_ROOT / str(name or "public/logo.svg")).resolve()
    public = (PROJECT_ROOT / "public").resolve()
    return path if path.is_relative_to(public) and path.is_file() else public / "logo.svg"


class RedactIPs(logging.Filter):
    """Masks IP addresses in log records (uvicorn logs the client address of websocket connections)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_ips(a) if isinstance(a, str) else _mask_address(a) for a in record.args)
        if isinstance(record.msg, str):
            record.msg = mask_ips(record.msg)
        return True


def _mask_address(value: object) -> object:
    """uvicorn logs client addresses as (host, port) tuples."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return ("[ip]", value[1]) if mask_ips(value[0]) == "[ip]" else value
    return value


def protect_logs() -> None:
    """Attach the IP filter to every logger uvicorn and Chainlit write through."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "chainlit", "engineio.server", "socketio.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactIPs) for f in logger.filters):
            logger.addFilter(RedactIPs())
