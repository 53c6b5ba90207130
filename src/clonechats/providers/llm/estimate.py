"""Token estimates for models whose tokenizer we do not run (every vendor model).

The estimate is deliberately on the high side, so a context built within a model's budget is
never rejected as too long, and an estimated charge never undercounts:

  text:     ceil(UTF-8 bytes / 3)   (English runs about 4 bytes per token in vendor tokenizers;
                                     accented, Cyrillic, Devanagari and CJK text about 2-3)
  message:  + 4 tokens per message  (role and separators)
  prompt:   + 3 tokens              (the priming of the reply)
"""

from collections.abc import Iterable

from clonechats.providers.llm.base import ChatMessage

BYTES_PER_TOKEN = 3
TOKENS_PER_MESSAGE = 4
TOKENS_PER_PROMPT = 3


def estimate_text_tokens(text: str) -> int:
    size = len(text.encode("utf-8", "replace"))
    return -(-size // BYTES_PER_TOKEN)


def estimate_prompt_tokens(messages: Iterable[ChatMessage]) -> int:
    return TOKENS_PER_PROMPT + sum(
        TOKENS_PER_MESSAGE + estimate_text_tokens(message.content) for message in messages)
