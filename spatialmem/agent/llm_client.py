"""OpenAI-compatible chat client (official ``openai`` SDK) with explicit retries and clear errors.

Works with hosted endpoints and with local servers speaking the same API: vLLM
(``http://127.0.0.1:8000/v1``), SGLang (``:30000/v1``), llama.cpp server (``:8080/v1``), Ollama
(``http://127.0.0.1:11434/v1``). Retries with exponential backoff on timeouts, connection errors,
HTTP 429 and 5xx; any other failure, or a reply without text, raises :class:`LLMError` naming the
endpoint and the fix.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from spatialmem.errors import InputError, LLMError, require_package

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to reach a chat model.

    Attributes:
        base_url: the OpenAI-compatible API root, e.g. ``http://127.0.0.1:8000/v1``; None = api.openai.com.
        model: model name as the server knows it.
        api_key_env: environment variable holding the API key; local servers (127.0.0.1, localhost, ::1)
            need none ("EMPTY" is sent); any other host without a key is refused with :class:`LLMError`.
        temperature: sampling temperature (0 = deterministic as far as the server allows).
        timeout_s: seconds to wait for one request.
        max_retries: retries after the first attempt on timeouts / connection errors / 429 / 5xx.
        backoff: first retry delay in seconds; doubled each retry (capped at 30 s).
        max_tokens: reply length cap.
        vision_model: model for image questions (``look(...)``); None = ``model``.
    """

    base_url: str | None = "http://127.0.0.1:8000/v1"
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    timeout_s: float = 60.0
    max_retries: int = 3
    backoff: float = 1.0
    max_tokens: int = 1024
    vision_model: str | None = None

    def __post_init__(self) -> None:
        if not self.model:
            raise InputError("LLM model name is empty; pass --llm-model NAME (as the server knows it)")
        if self.timeout_s <= 0:
            raise InputError(f"LLM timeout must be > 0 s, got {self.timeout_s}")
        if self.max_retries < 0:
            raise InputError(f"LLM max_retries must be >= 0, got {self.max_retries}")
        if self.backoff < 0:
            raise InputError(f"LLM backoff must be >= 0 s, got {self.backoff}")

    @property
    def is_default_host(self) -> bool:
        """True for api.openai.com (``base_url`` None or pointing there)."""
        return self.base_url is None or (urlparse(self.base_url).hostname or "") == "api.openai.com"

    @property
    def is_local(self) -> bool:
        """True for a server on this machine (127.0.0.1, localhost, ::1, 0.0.0.0): it may run without a key."""
        host = urlparse(self.base_url or "").hostname or ""
        return host in ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@dataclass(frozen=True)
class ChatReply:
    """One chat completion: the text, the model that answered, attempts used, seconds spent."""

    text: str
    model: str
    attempts: int
    elapsed_s: float
    usage: dict[str, Any] | None = None


class LLMClient:
    """A thin, retrying wrapper around ``openai.OpenAI().chat.completions.create``."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self._openai = require_package("openai", "llm", "the LLM planner")
        key = os.environ.get(config.api_key_env or "", "")
        if not key:
            if not config.is_local:
                where = config.base_url or "api.openai.com"
                raise LLMError(
                    f"no API key for {where}: environment variable {config.api_key_env!r} is empty; "
                    f"export {config.api_key_env or 'OPENAI_API_KEY'}=... or pass --llm-api-key-env NAME "
                    "(only local servers on 127.0.0.1 / localhost / ::1 are used without a key)"
                )
            key = "EMPTY"
        elif not config.is_local and not config.is_default_host:
            _log.warning("sending the API key from $%s to %s", config.api_key_env, config.base_url)
        self._client = self._openai.OpenAI(
            base_url=config.base_url, api_key=key, timeout=config.timeout_s, max_retries=0
        )

    def _where(self) -> str:
        return f"LLM endpoint {self.config.base_url or 'api.openai.com'} (model {self.config.model!r})"

    def _retryable(self, exc: Exception) -> bool:
        o = self._openai
        if isinstance(exc, (o.APITimeoutError, o.APIConnectionError, o.RateLimitError, o.InternalServerError)):
            return True
        status = getattr(exc, "status_code", None)
        return isinstance(status, int) and (status == 429 or status >= 500)

    def _describe(self, exc: Exception) -> str:
        o = self._openai
        if isinstance(exc, o.APITimeoutError):
            return f"timed out after {self.config.timeout_s:g} s (raise --llm-timeout or check the server load)"
        if isinstance(exc, o.APIConnectionError):
            return "unreachable (is the server running at that URL? check --llm-base-url)"
        status = getattr(exc, "status_code", None)
        if status == 401:
            return f"rejected the API key (HTTP 401); check the variable {self.config.api_key_env!r}"
        if status == 404:
            return "answered HTTP 404; check --llm-base-url (it usually ends in /v1) and --llm-model"
        if status is not None:
            return f"answered HTTP {status}: {str(exc)[:200]}"
        return f"failed: {type(exc).__name__}: {str(exc)[:200]}"

    def chat(self, messages: list[dict[str, Any]], model: str | None = None) -> ChatReply:
        """Send ``messages``; return the reply text. Retries transient failures with backoff.

        Raises:
            LLMError: endpoint unreachable / timing out after all retries, a non-retryable HTTP
                error, or a reply without any text.
        """
        cfg = self.config
        t0 = time.perf_counter()
        attempts = 0
        delay = cfg.backoff
        while True:
            attempts += 1
            try:
                resp = self._client.chat.completions.create(
                    model=model or cfg.model,
                    messages=messages,
                    temperature=cfg.temperature,
                    max_tokens=cfg.max_tokens,
                )
                break
            except Exception as exc:  # the SDK's error classes; anything else is re-raised below
                if not isinstance(exc, self._openai.OpenAIError):
                    raise LLMError(f"{self._where()} returned something unusable: {type(exc).__name__}: {exc}") from exc
                if self._retryable(exc) and attempts <= cfg.max_retries:
                    time.sleep(min(delay, 30.0))
                    delay = delay * 2 if delay > 0 else 0
                    continue
                tries = f" after {attempts} attempt(s)" if attempts > 1 else ""
                raise LLMError(f"{self._where()} {self._describe(exc)}{tries}") from exc
        choices = getattr(resp, "choices", None)
        if not choices:
            raise LLMError(f"{self._where()} returned no choices; is it an OpenAI-compatible chat endpoint?")
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if isinstance(text, list):  # some servers return content parts
            text = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in text)
        if not isinstance(text, str) or not text.strip():
            raise LLMError(f"{self._where()} returned an empty message")
        usage = getattr(resp, "usage", None)
        return ChatReply(
            text=text,
            model=str(getattr(resp, "model", None) or model or cfg.model),
            attempts=attempts,
            elapsed_s=time.perf_counter() - t0,
            usage=usage.model_dump() if hasattr(usage, "model_dump") else None,
        )
