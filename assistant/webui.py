"""The chat's web face: theme, local-only assets, allowed origins, and no IP addresses in logs.

Chainlit's page links Google Fonts and a KaTeX stylesheet from a CDN; for the city
website nothing may be fetched from third parties, so the page template is filtered
and fonts come from public/fonts.css (system fonts).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from urllib.parse import urljoin

from assistant.settings import PROJECT_ROOT, Settings

THEME_FILE = PROJECT_ROOT / "public" / "theme.json"
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\[?[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\]?(?::\d+)?")


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
    config.ui.custom_js = "/public/a11y.js"
    config.features.spontaneous_file_upload.enabled = False


def keep_page_local() -> None:
    """Filter Chainlit's HTML template: no preconnects, no CDN stylesheet, no external meta links."""
    import chainlit.server as cl_server

    original = getattr(cl_server.get_html_template, "__wrapped__", cl_server.get_html_template)

    def local_only(root_path: str) -> str:
        html = original(root_path)
        html = re.sub(r'<link\s+rel="preconnect"[^>]*>\s*', "", html)
        html = re.sub(r'<link[^>]+href="https://cdn\.jsdelivr\.net/[^"]*"[^>]*>\s*', "", html)
        html = re.sub(r'<meta property="og:url" content="https?://[^"]*">', "", html)
        return html

    local_only.__wrapped__ = original  # type: ignore[attr-defined]
    cl_server.get_html_template = local_only


def logo_path(variant: str) -> Path:
    """The theme's logo file for "light" or "dark" (a path relative to the project)."""
    logo = load_theme().get("logo") or {}
    name = logo.get(variant) or logo.get("light") if isinstance(logo, dict) else logo
    path = (PROJECT_ROOT / str(name or "public/logo_light.svg")).resolve()
    public = (PROJECT_ROOT / "public").resolve()
    return path if path.is_relative_to(public) and path.is_file() else public / "logo_light.svg"


def theme_for(base_url: str) -> dict:
    """The theme as the widget needs it: font URLs absolute, because the widget resolves relative
    ones against the host page (and without custom fonts it would load Google Fonts)."""
    theme = load_theme()
    fonts = theme.get("custom_fonts") or ["/public/fonts.css"]
    theme["custom_fonts"] = [urljoin(base_url, f) for f in fonts]
    return theme


class RedactIPs(logging.Filter):
    """Masks IP addresses in log records (uvicorn logs the client address of websocket connections)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(_IP.sub("[ip]", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _IP.sub("[ip]", record.msg)
        return True


def protect_logs() -> None:
    """Attach the IP filter to every logger uvicorn and Chainlit write through."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "chainlit", "engineio.server", "socketio.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactIPs) for f in logger.filters):
            logger.addFilter(RedactIPs())
