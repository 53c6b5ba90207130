"""Apertium, the rule-based translator from Debian, run on this machine (the offline default).

Debian's `apertium-eng-spa` gives English ↔ Spanish directly (modes `eng-spa`, `spa-eng`) and
`apertium-fr-es` gives French ↔ Spanish (`fr-es`, `es-fr`); English ↔ French goes through
Spanish, one run per leg (its quality is poor, as measured in OFFLINE.md §3, and the pair says
so with `via="es"`). A pair is offered only while the `apertium` command and every mode file it
needs are there, so a server without the packages offers none rather than failing later.

Each leg is one `apertium -u -f txt MODE` process (`-u` drops the `*unknown` markers), given the
text on standard input: no shell, the text never on a command line, started with asyncio's
subprocess support so the event loop stays free. At most `max_concurrent` run at once; a run
over `timeout_seconds` is killed; texts over `max_chars` are refused before any process starts.
"""

import asyncio
import contextlib
import logging
import re
import shutil
from pathlib import Path

from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.translation.base import (
    DEFAULT_MAX_CHARS,
    LanguagePair,
    TranslationResult,
    check_request,
)

log = logging.getLogger(__name__)

NAME = "local"
LABEL = "Apertium (on this server)"
DEFAULT_MODES_DIR = Path("/usr/share/apertium/modes")
# (source, target) -> the Apertium modes to run in turn
ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("en", "es"): ("eng-spa",),
    ("es", "en"): ("spa-eng",),
    ("fr", "es"): ("fr-es",),
    ("es", "fr"): ("es-fr",),
    ("en", "fr"): ("eng-spa", "es-fr"),
    ("fr", "en"): ("fr-es", "spa-eng"),
}
PIVOT = "es"
_SPACES = re.compile(r"[ \t]{2,}")


def tidy(text: str) -> str:
    """Apertium's output without the doubled spaces and edge blanks its rules leave."""
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.strip().split("\n"))


class ApertiumTranslator:
    name = NAME
    label = LABEL

    def __init__(self, *, command: str = "apertium", modes_dir: Path = DEFAULT_MODES_DIR,
                 timeout_seconds: float = 20.0, max_chars: int = DEFAULT_MAX_CHARS,
                 max_concurrent: int = 2) -> None:
        self._command = shutil.which(command)
        self._modes_dir = Path(modes_dir)
        self._timeout = timeout_seconds
        self._max_chars = max_chars
        self._slots = asyncio.Semaphore(max_concurrent)
        self._pairs = self._available_pairs()

    def _available_pairs(self) -> list[LanguagePair]:
        if self._command is None:
            return []
        return [LanguagePair(source, target, via=PIVOT if len(modes) > 1 else None)
                for (source, target), modes in ROUTES.items()
                if all((self._modes_dir / f"{mode}.mode").is_file() for mode in modes)]

    def pairs(self) -> list[LanguagePair]:
        return list(self._pairs)

    async def translate(self, text: str, *, source: str, target: str) -> TranslationResult:
        pair = check_request(self, text, source=source, target=target,
                             max_chars=self._max_chars)
        result = text.strip()
        if result:
            for mode in ROUTES[(pair.source, pair.target)]:
                result = tidy(await self._run(mode, result))
        return TranslationResult(text=result, source=source, target=target, provider=NAME)

    async def _run(self, mode: str, text: str) -> str:
        assert self._command is not None  # no pairs are offered without it
        async with self._slots:
            try:
                process = await asyncio.create_subprocess_exec(
                    self._command, "-u", "-f", "txt", mode, stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            except OSError as exc:
                raise ProviderUnavailable(f"apertium could not start ({type(exc).__name__})",
                                          provider=NAME, code="not_started") from None
            try:
                out, err = await asyncio.wait_for(process.communicate(text.encode()),
                                                  timeout=self._timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
                raise ProviderUnavailable(f"apertium took longer than {self._timeout:g} s",
                                          provider=NAME, code="timeout") from None
            except BaseException:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                raise
        if process.returncode != 0:
            reason = err.decode(errors="replace").strip().splitlines()[:1]
            log.warning("apertium failed", extra={"mode": mode, "rc": process.returncode,
                                                  "stderr": reason[0][:200] if reason else ""})
            raise ProviderUnavailable(f"apertium {mode} exited with {process.returncode}",
                                      provider=NAME, code="failed")
        return out.decode(errors="replace")
