"""OpenAI-compatible chat client (official ``openai`` SDK) with bounded requests and clear errors.

Works with hosted endpoints and with local servers speaking the same API: vLLM
(``http://127.0.0.1:8000/v1``), SGLang (``:30000/v1``), llama.cpp server (``:8080/v1``),
llama-cpp-python's server, Ollama (``http://127.0.0.1:11434/v1``).

Bounds on every request:

* one wall-clock deadline for the whole request (``timeout_s``, and never past the caller's
  ``deadline``): a server that drips one byte a second is cut off when it runs out, whatever the phase;
* a reply size cap (``max_reply_bytes``), ``max_tokens`` and stop sequences;
* retries only on connection errors and HTTP 429 / 5xx, with exponential backoff; a timed-out request is
  never sent again (the server may still be busy with it).

Every attempt is returned (:class:`Attempt`) so that the planner's transcript shows each one and why
it failed. Grammar-constrained decoding (``grammar``): ``gbnf`` sends llama.cpp's ``grammar`` field,
``lark`` sends vLLM's ``guided_grammar`` (and SGLang's ``ebnf``), ``json`` a ``response_format`` JSON
schema ``{"program": "..."}``; ``auto`` probes the server once and falls back cleanly (a constrained
request the server rejects with HTTP 400/422 is sent again with the next weaker mode, down to ``off``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from spatialmem.errors import InputError, LLMEndpointError, LLMError, require_package

_log = logging.getLogger(__name__)

GRAMMAR_MODES = ("auto", "off", "gbnf", "lark", "json")
_FALLBACK = {"gbnf": "json", "lark": "json", "json": "off"}
# a CPU server's cold first prompt (3k tokens) takes 75-95 s; leave room for it
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MAX_TOKENS = 300
FENCED_STOPS = ("\n```\n", "\n\n\n\n")
GRAMMAR_STOPS = ("\n\n\n",)
PROGRAM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"program": {"type": "string", "maxLength": 4000}},
    "required": ["program"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to reach a chat model.

    Attributes:
        base_url: the OpenAI-compatible API root, e.g. ``http://127.0.0.1:8000/v1``; None = api.openai.com.
        model: model name as the server knows it.
        api_key_env: environment variable holding the API key; local servers (127.0.0.1, localhost, ::1)
            need none ("EMPTY" is sent); any other host without a key is refused with :class:`LLMError`.
        temperature: sampling temperature (0 = deterministic as far as the server allows).
        timeout_s: wall-clock deadline of one whole request in seconds (connect, wait, every byte of
            the reply); finite and > 0.
        max_retries: retries after the first attempt on connection errors / HTTP 429 / 5xx (never after
            a timeout).
        backoff: first retry delay in seconds; doubled each retry (capped at 30 s).
        max_tokens: reply length cap in tokens (programs are short).
        max_reply_bytes: the largest reply body accepted, in bytes.
        grammar: constrained decoding: ``auto`` | ``off`` | ``gbnf`` | ``lark`` | ``json``.
        vision_model: model for image questions (``look(...)``); None = ``model``.
    """

    base_url: str | None = "http://127.0.0.1:8000/v1"
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = 2
    backoff: float = 1.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_reply_bytes: int = 1_000_000
    grammar: str = "auto"
    vision_model: str | None = None

    def __post_init__(self) -> None:
        if not self.model:
            raise InputError("LLM model name is empty; pass --llm-model NAME (as the server knows it)")
        for name, value in (("timeout", self.timeout_s), ("backoff", self.backoff), ("temperature", self.temperature)):
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"LLM {name} must be a finite number, got {value!r} (e.g. --llm-{name} 120)")
        if self.timeout_s <= 0:
            raise InputError(f"LLM timeout must be > 0 s, got {self.timeout_s:g} (e.g. --llm-timeout 120)")
        if self.max_retries < 0:
            raise InputError(f"LLM max_retries must be >= 0, got {self.max_retries}")
        if self.backoff < 0:
            raise InputError(f"LLM backoff must be >= 0 s, got {self.backoff}")
        if self.max_tokens < 1:
            raise InputError(f"--llm-max-tokens must be >= 1, got {self.max_tokens}")
        if self.max_reply_bytes < 1024:
            raise InputError(f"the LLM reply size cap must be >= 1024 bytes, got {self.max_reply_bytes}")
        if self.grammar not in GRAMMAR_MODES:
            raise InputError(f"--llm-grammar {self.grammar!r} is not one of {', '.join(GRAMMAR_MODES)}")

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
class Attempt:
    """One HTTP attempt of a chat request: its number, ``outcome`` (``ok``, ``http 503``, ``connection``,
    ``timeout``, ``too large``, ``grammar rejected`` ...), seconds spent and the error text."""

    number: int
    outcome: str
    elapsed_s: float
    message: str = ""
    grammar: str = "off"


@dataclass(frozen=True)
class ChatReply:
    """One chat completion: the text, the model that answered, every attempt, seconds spent.

    ``grammar`` is the decoding constraint the accepted attempt used (``off`` when none).
    """

    text: str
    model: str
    attempts: tuple[Attempt, ...]
    elapsed_s: float
    usage: dict[str, Any] | None = None
    grammar: str = "off"
    finish_reason: str | None = None


@dataclass(frozen=True)
class ServerInfo:
    """What a probe learnt: ``kind`` (``llama.cpp``, ``llama-cpp-python``, ``vllm``, ``sglang``,
    ``unknown``), the served model ids, and the tokenizer endpoint when the server exposes one."""

    kind: str
    models: tuple[str, ...] = ()
    tokenize_path: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class _Failure(Exception):
    """An attempt that failed; ``retry`` says whether another attempt may help."""

    def __init__(self, outcome: str, message: str, retry: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.outcome, self.message, self.retry, self.status = outcome, message, retry, status


class LLMClient:
    """A bounded, retrying wrapper around the chat-completions endpoint (see module docstring)."""

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
        self._key = key
        self._client = self._openai.OpenAI(
            base_url=config.base_url, api_key=key, timeout=config.timeout_s, max_retries=0
        )
        self._lock = threading.Lock()
        self._grammar: str | None = None if config.grammar == "auto" else config.grammar
        self._server: ServerInfo | None = None
        self._probe_failed = False

    # ------------------------------------------------------------------ endpoint facts
    def where(self) -> str:
        """``LLM endpoint URL (model 'name')`` for messages."""
        return f"LLM endpoint {self.config.base_url or 'api.openai.com'} (model {self.config.model!r})"

    def _root(self) -> str:
        base = (self.config.base_url or "https://api.openai.com/v1").rstrip("/")
        return base[:-3] if base.endswith("/v1") else base

    def _http_json(self, url: str, timeout_s: float, body: dict | None = None) -> Any | None:
        """GET (or POST ``body``) a small JSON document; None on any failure (probes must never raise)."""
        import urllib.error
        import urllib.request

        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {self._key}",
                                                               "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as r:  # noqa: S310 (http(s) URL from config)
                if r.status != 200:
                    return None
                return json.loads(r.read(self.config.max_reply_bytes).decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def probe(self) -> ServerInfo:
        """Ask the server once what it is (``GET /v1/models``, llama.cpp's ``/props``); cached.

        Raises:
            LLMEndpointError: the endpoint does not answer ``/models`` at all (unreachable, wrong URL).
        """
        with self._lock:
            if self._server is not None:
                return self._server
        t = min(10.0, self.config.timeout_s)
        base = (self.config.base_url or "https://api.openai.com/v1").rstrip("/")
        models = self._http_json(base + "/models", t)
        if not isinstance(models, dict):
            raise LLMEndpointError(
                f"{self.where()} does not answer GET {base}/models (is the server running at that URL? "
                "check --llm-base-url; it usually ends in /v1)")
        rows = [m for m in models.get("data") or [] if isinstance(m, dict)]
        ids = tuple(str(m.get("id")) for m in rows)
        owners = {str(m.get("owned_by", "")).lower() for m in rows}
        kind, tokenize = "unknown", None
        if "vllm" in owners:
            kind, tokenize = "vllm", "/tokenize"
        elif "sglang" in owners:
            kind = "sglang"
        elif owners & {"llamacpp", "llama.cpp"} or isinstance(self._http_json(self._root() + "/props", t), dict):
            kind, tokenize = "llama.cpp", "/tokenize"
        elif owners == {"me"} and all("permissions" in m for m in rows):  # llama-cpp-python's server
            kind, tokenize = "llama-cpp-python", "/extras/tokenize/count"
        info = ServerInfo(kind, ids, tokenize, {"owned_by": sorted(owners)})
        with self._lock:
            self._server = info
            if self._grammar is None:
                self._grammar = {"llama.cpp": "gbnf", "llama-cpp-python": "gbnf", "vllm": "lark",
                                 "sglang": "lark"}.get(kind, "json")
        return info

    @property
    def grammar_mode(self) -> str:
        """The decoding constraint in use (``auto`` resolved by a probe on first use)."""
        if self._grammar is None:
            try:
                self.probe()
            except LLMEndpointError:
                self._probe_failed = True
                with self._lock:
                    self._grammar = "off"
        return self._grammar or "off"

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the server's tokenizer where it exposes one, else an estimate (chars / 3.5)."""
        estimate = math.ceil(len(text) / 3.5)
        if self._server is None and not self._probe_failed:
            try:
                self.probe()
            except LLMEndpointError:
                self._probe_failed = True
        info = self._server
        if info is None or not info.tokenize_path:
            return estimate
        body = ({"input": text} if info.kind == "llama-cpp-python" else
                {"content": text} if info.kind == "llama.cpp" else {"model": self.config.model, "prompt": text})
        data = self._http_json(self._root() + info.tokenize_path, min(10.0, self.config.timeout_s), body)
        if not isinstance(data, dict):
            return estimate
        if isinstance(data.get("count"), int):
            return data["count"]
        return len(data["tokens"]) if isinstance(data.get("tokens"), list) else estimate

    # ------------------------------------------------------------------ one request
    def _request_body(self, messages, model: str | None, grammar: str) -> dict[str, Any]:
        from spatialmem.agent.grammars import gbnf, lark_ebnf

        cfg = self.config
        body: dict[str, Any] = dict(model=model or cfg.model, messages=messages, temperature=cfg.temperature,
                                    max_tokens=cfg.max_tokens)
        if grammar == "off":
            body["stop"] = list(FENCED_STOPS)
        elif grammar == "gbnf":
            body["stop"] = list(GRAMMAR_STOPS)
            body["extra_body"] = {"grammar": gbnf()}
        elif grammar == "lark":
            body["stop"] = list(GRAMMAR_STOPS)
            body["extra_body"] = {"guided_grammar": lark_ebnf(), "ebnf": gbnf()}
        elif grammar == "json":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "program", "schema": PROGRAM_SCHEMA, "strict": True}}
        return body

    def _fetch(self, body: dict[str, Any], limit_s: float, cancel: threading.Event) -> dict | None:
        """POST once and read the whole reply (size-capped); None when cancelled by the deadline."""
        o = self._openai
        try:
            with self._client.chat.completions.with_streaming_response.create(**body, timeout=limit_s) as resp:
                buf = bytearray()
                for chunk in resp.iter_bytes():
                    if cancel.is_set():
                        return None
                    buf += chunk
                    if len(buf) > self.config.max_reply_bytes:
                        raise _Failure("too large", f"sent a reply larger than {self.config.max_reply_bytes} bytes; "
                                       "lower --llm-max-tokens or check the server", False)
        except o.APITimeoutError as exc:
            raise _Failure("timeout", f"did not answer within {limit_s:.3g} s (raise --llm-timeout or check "
                           "the server load)", False) from exc
        except o.APIConnectionError as exc:
            raise _Failure("connection", "unreachable (is the server running at that URL? check --llm-base-url)",
                           True) from exc
        except o.APIStatusError as exc:
            raise self._status_failure(exc.status_code, str(exc)) from exc
        except OSError as exc:
            raise _Failure("connection", f"connection failed: {type(exc).__name__}: {exc}", True) from exc
        try:
            data = json.loads(bytes(buf).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _Failure("unusable", f"returned a body that is not JSON ({len(buf)} bytes); is it an "
                           "OpenAI-compatible chat endpoint?", False) from exc
        if not isinstance(data, dict):
            raise _Failure("unusable", "returned JSON that is not an object", False)
        return data

    def _status_failure(self, status: int, text: str) -> _Failure:
        if status == 401:
            msg = f"rejected the API key (HTTP 401); check the variable {self.config.api_key_env!r}"
        elif status == 404:
            msg = "answered HTTP 404; check --llm-base-url (it usually ends in /v1) and --llm-model"
        else:
            msg = f"answered HTTP {status}: {text[:200]}"
        return _Failure(f"http {status}", msg, status == 429 or status >= 500, status)

    def _attempt(self, body: dict[str, Any], limit_s: float) -> dict:
        """One attempt under a wall-clock deadline: the reading thread is abandoned when it runs out."""
        box: dict[str, Any] = {}
        cancel = threading.Event()

        def work() -> None:
            try:
                box["data"] = self._fetch(body, limit_s, cancel)
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc

        worker = threading.Thread(target=work, name="llm-request", daemon=True)
        worker.start()
        worker.join(limit_s)
        if worker.is_alive():
            cancel.set()
            raise _Failure("timeout", f"did not finish its reply within {limit_s:.3g} s (the whole request's "
                           "deadline; raise --llm-timeout or check the server load)", False)
        if "error" in box:
            raise box["error"]
        return box["data"]

    # ------------------------------------------------------------------ public
    def chat(self, messages: list[dict[str, Any]], model: str | None = None, deadline: float | None = None,
             constrained: bool = False) -> ChatReply:
        """Send ``messages``; return the reply text.

        Args:
            messages: chat messages.
            model: another model than the configured one (vision questions).
            deadline: ``time.monotonic()`` value no attempt may run past (the question's budget).
            constrained: decode under the configured grammar (planning requests; not vision ones).

        Raises:
            LLMEndpointError: unreachable, timing out, too large, a non-retryable HTTP error, retries
                exhausted, the budget spent, or a reply without text; ``.attempts`` lists every attempt.
        """
        cfg = self.config
        t0 = time.monotonic()
        attempts: list[Attempt] = []
        delay = cfg.backoff
        grammar = self.grammar_mode if constrained else "off"
        retries = 0
        while True:
            limit = cfg.timeout_s if deadline is None else min(cfg.timeout_s, deadline - time.monotonic())
            if limit <= 0:
                raise self._error("ran out of the question's time budget before the request could be sent "
                                  "(raise --llm-question-budget)", attempts)
            ta = time.monotonic()
            try:
                data = self._attempt(self._request_body(messages, model, grammar), limit)
            except _Failure as f:
                if grammar != "off" and cfg.grammar == "auto" and f.status in (400, 422):
                    attempts.append(Attempt(len(attempts) + 1, "grammar rejected", time.monotonic() - ta,
                                            f"{f.message}; falling back to {_FALLBACK[grammar]}", grammar))
                    with self._lock:
                        self._grammar = grammar = _FALLBACK[grammar]
                    continue
                attempts.append(Attempt(len(attempts) + 1, f.outcome, time.monotonic() - ta, f.message, grammar))
                if f.retry and retries < cfg.max_retries:
                    retries += 1
                    wait = min(delay, 30.0)
                    if deadline is not None and time.monotonic() + wait >= deadline:
                        raise self._error(f"{f.message}; no time left in the question's budget to retry",
                                          attempts) from f
                    time.sleep(wait)
                    delay = delay * 2 if delay > 0 else 0
                    continue
                tries = f" after {len(attempts)} attempt(s)" if len(attempts) > 1 else ""
                raise self._error(f"{f.message}{tries}", attempts) from f
            text, finish = _reply_text(data)
            if text is None:
                attempts.append(Attempt(len(attempts) + 1, "unusable", time.monotonic() - ta,
                                        "no message text in the reply", grammar))
                raise self._error("returned no message text; is it an OpenAI-compatible chat endpoint?", attempts)
            attempts.append(Attempt(len(attempts) + 1, "ok", time.monotonic() - ta, "", grammar))
            if grammar == "json":
                text = _program_from_json(text)
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
            return ChatReply(text=text, model=str(data.get("model") or model or cfg.model), attempts=tuple(attempts),
                             elapsed_s=time.monotonic() - t0, usage=usage, grammar=grammar, finish_reason=finish)

    def _error(self, what: str, attempts: list[Attempt]) -> LLMEndpointError:
        exc = LLMEndpointError(f"{self.where()} {what}")
        exc.attempts = tuple(attempts)
        return exc


def _reply_text(data: dict) -> tuple[str | None, str | None]:
    """The first choice's message text (content parts joined) and its finish reason."""
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None, None
    message = choices[0].get("message") or {}
    text = message.get("content") if isinstance(message, dict) else None
    if isinstance(text, list):  # some servers return content parts
        text = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in text)
    if not isinstance(text, str) or not text.strip():
        return None, choices[0].get("finish_reason")
    return text, choices[0].get("finish_reason")


def _program_from_json(text: str) -> str:
    """``{"program": "..."}`` (JSON-schema decoding) -> the program; other text unchanged."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return data["program"] if isinstance(data, dict) and isinstance(data.get("program"), str) else text
