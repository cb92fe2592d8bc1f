"""One typed settings object, read from the environment and `.env`.

Every tunable of the assistant lives here so that deployments change behaviour
by configuration, never by editing code. `assistant settings` prints the table.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of the assistant; field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    corpus_dir: Path = Field(
        PROJECT_ROOT / "corpus", description="Folder with the Markdown source documents."
    )
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Folder of the built index (Chroma + BM25).")
    host: str = Field("127.0.0.1", description="Interface the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    log_level: str = Field("INFO", description="Python log level of the assistant's own loggers.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
