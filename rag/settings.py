"""One settings object, read from the environment (and an optional TOML file) only at the edge."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# setting name -> environment variable; the CLI flags and the UI use the same names.
ENV = {
    "library": "REPORTQA_LIBRARY",
    "embed_model": "REPORTQA_EMBED_MODEL",
    "chroma_url": "REPORTQA_CHROMA_URL",
    "chunk_size": "REPORTQA_CHUNK_SIZE",
    "top_k": "REPORTQA_TOP_K",
    "reranker": "REPORTQA_RERANKER",
    "llm_base_url": "REPORTQA_LLM_BASE_URL",
    "llm_model": "REPORTQA_LLM_MODEL",
    "llm_api_key": "REPORTQA_LLM_API_KEY",
    "ocr": "REPORTQA_OCR",
    "max_upload_mb": "REPORTQA_MAX_UPLOAD_MB",
    "collection": "REPORTQA_COLLECTION",
    "embed_batch": "REPORTQA_EMBED_BATCH",
}
CONFIG_ENV = "REPORTQA_CONFIG"


def default_library() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("reportqa", appauthor=False)) / "library"


@dataclass(frozen=True)
class Settings:
    """Everything configurable. ``chunk_size`` is in characters of English text; CJK text packs half as many."""

    library: Path
    embed_model: str = DEFAULT_EMBED_MODEL
    chroma_url: str | None = None
    chunk_size: int = 800
    collection: str = "reportqa"
    top_k: int = 8
    reranker: str | None = None
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    ocr: bool = True
    max_upload_mb: int = 200
    embed_batch: int = 64

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults < TOML file named by REPORTQA_CONFIG < environment < explicit overrides (CLI flags)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        config = environ.get(CONFIG_ENV)
        if config:
            values.update(tomllib.loads(Path(config).read_text(encoding="utf-8")).get("reportqa", {}))
        values.update({name: environ[var] for name, var in ENV.items() if environ.get(var)})
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("library", default_library())
        return cls(**_coerce(values))

    def to_env(self) -> dict[str, str]:
        """Every setting as the environment variable :meth:`load` reads, for a child process such as the
        web app: ``Settings.load(environ=settings.to_env()) == settings``. Unset values are empty and the
        TOML file is not named, so nothing the parent's environment or file holds can override them."""
        env = {CONFIG_ENV: ""}
        for name, var in ENV.items():
            value = getattr(self, name)
            if isinstance(value, bool):
                env[var] = "1" if value else "0"
            else:
                env[var] = "" if value is None else str(value)
        return env

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **_coerce(changes))

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in fields(Settings)}
    unknown = set(values) - set(types)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(types)}")
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = types[name]
        if name == "library":
            out[name] = Path(value).expanduser()
        elif kind == "int" and not isinstance(value, int):
            out[name] = int(value)
        elif kind == "bool" and isinstance(value, str):
            out[name] = value.strip().lower() not in ("0", "false", "no", "off", "")
        else:
            out[name] = value or None if "None" in str(kind) else value
    return out
