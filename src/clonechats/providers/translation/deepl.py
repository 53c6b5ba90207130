"""DeepL's text translation API (v2), with plain httpx.

`POST {base_url}/translate` with `Authorization: DeepL-Auth-Key <key>` and the JSON body
`{"text": ["…"], "source_lang": "EN", "target_lang": "ES"}` answers
`{"translations": [{"detected_source_language": "EN", "text": "…"}]}`, one entry per text.
The base URL is `https://api-free.deepl.com/v2` for a Free key (it ends in `:fx`) and
`https://api.deepl.com/v2` otherwise. Codes are upper case; as targets, English and Portuguese
take a variant (`EN-GB`/`EN-US`, `PT-PT`/`PT-BR`: plain `EN` and `PT` are deprecated), taken
from the tag's region, else `EN-US` and `PT-PT`; Chinese targets `ZH-HANS`/`ZH-HANT` by script.
Errors carry `{"message": "…"}`: 403 is a refused key, 456 a used-up character quota, 429 and
5xx are retried (`max_retries`, exponential back-off, honouring `Retry-After`), 400 and 413
are refusals. Only the text and the two languages are sent.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from clonechats.providers.errors import ProviderError, ProviderQuotaError, ProviderUnavailable
from clonechats.providers.llm.vendor_http import error_for_status, retry_after_header
from clonechats.providers.translation.base import (
    DEFAULT_MAX_CHARS,
    LanguagePair,
    TranslationResult,
    check_request,
)
from clonechats.providers.translation.languages import primary

NAME = "deepl"
LABEL = "DeepL"
FREE_BASE_URL = "https://api-free.deepl.com/v2"
PRO_BASE_URL = "https://api.deepl.com/v2"
QUOTA_STATUS = 456
# Source languages of DeepL's text translation (each is also a target).
LANGUAGES = ("ar", "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "hu", "id",
             "it", "ja", "ko", "lt", "lv", "nb", "nl", "pl", "pt", "ro", "ru", "sk", "sl",
             "sv", "tr", "uk", "zh")

Sleep = Callable[[float], Awaitable[None]]


def base_url_for(api_key: str) -> str:
    return FREE_BASE_URL if api_key.endswith(":fx") else PRO_BASE_URL


def source_code(tag: str) -> str:
    return primary(tag).upper()


def target_code(tag: str) -> str:
    parts = tag.split("-")
    language = parts[0].lower()
    rest = [part.upper() for part in parts[1:]]
    if language == "en":
        return "EN-GB" if "GB" in rest else "EN-US"
    if language == "pt":
        return "PT-BR" if "BR" in rest else "PT-PT"
    if language == "zh":
        return "ZH-HANT" if "HANT" in rest or "TW" in rest or "HK" in rest else "ZH-HANS"
    return language.upper()


class DeepLTranslator:
    name = NAME
    label = LABEL

    def __init__(self, *, api_key: str, http: httpx.AsyncClient, base_url: str | None = None,
                 timeout_seconds: float = 20.0, max_retries: int = 2,
                 retry_backoff_seconds: float = 0.5, max_chars: int = DEFAULT_MAX_CHARS,
                 sleep: Sleep = asyncio.sleep) -> None:
        api_key = api_key.strip()
        if not api_key:
            raise ValueError("DeepL needs an API key")
        self._api_key = api_key
        self._http = http
        self._url = (base_url or base_url_for(api_key)).rstrip("/") + "/translate"
        self._timeout = timeout_seconds
        self._max_retries = max_retries
        self._backoff = retry_backoff_seconds
        self._max_chars = max_chars
        self._sleep = sleep
        self._pairs = [LanguagePair(s, t) for s in LANGUAGES for t in LANGUAGES if s != t]

    def pairs(self) -> list[LanguagePair]:
        return list(self._pairs)

    async def translate(self, text: str, *, source: str, target: str) -> TranslationResult:
        check_request(self, text, source=source, target=target, max_chars=self._max_chars)
        text = text.strip()
        if not text:
            return TranslationResult(text="", source=source, target=target, provider=NAME)
        body = {"text": [text], "source_lang": source_code(source),
                "target_lang": target_code(target)}
        attempt = 0
        while True:
            try:
                translated = await self._request(body)
                break
            except ProviderUnavailable as exc:
                if attempt >= self._max_retries:
                    raise
                delay = max(self._backoff * 2 ** attempt, exc.retry_after or 0.0)
                if delay > self._timeout:
                    raise
            attempt += 1
            await self._sleep(delay)
        return TranslationResult(text=translated, source=source, target=target, provider=NAME)

    async def _request(self, body: dict[str, Any]) -> str:
        try:
            response = await self._http.post(
                self._url, json=body, timeout=self._timeout,
                headers={"Authorization": f"DeepL-Auth-Key {self._api_key}"})
        except httpx.TimeoutException:
            raise ProviderUnavailable("timed out waiting for DeepL", provider=NAME,
                                      code="timeout") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"the connection failed ({type(exc).__name__})",
                                      provider=NAME, code="connection_error") from None
        if response.status_code >= 400:
            raise self._error(response)
        try:
            translated = response.json()["translations"][0]["text"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ProviderUnavailable("DeepL sent an unreadable answer", provider=NAME,
                                      code="bad_response") from None
        if not isinstance(translated, str):
            raise ProviderUnavailable("DeepL sent an unreadable answer", provider=NAME,
                                      code="bad_response")
        return translated.strip()

    def _error(self, response: httpx.Response) -> ProviderError:
        try:
            body = response.json()
        except ValueError:
            body = None
        message = str(body.get("message") or "")[:300] if isinstance(body, dict) else ""
        if response.status_code == QUOTA_STATUS:
            return ProviderQuotaError(message or "the character quota is used up",
                                      provider=NAME, status=QUOTA_STATUS, code="quota_exceeded")
        return error_for_status(NAME, response.status_code, None, message,
                                retry_after=retry_after_header(response))
