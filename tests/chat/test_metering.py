"""Prices and costs: the most specific price applies, costs round up, empty replies are free."""

from decimal import Decimal

import pytest

from clonechats.chat import metering
from clonechats.errors import AppError
from clonechats.providers.llm.base import Usage
from clonechats.settings import ChatSettings, ModelPrice


def price(prompt: str, completion: str, minimum: int = 1) -> ModelPrice:
    return ModelPrice(prompt_per_1k=Decimal(prompt), completion_per_1k=Decimal(completion),
                      minimum=minimum)


def test_the_most_specific_price_applies():
    settings = ChatSettings(prices={"openai:gpt-4o": price("5", "15"), "openai:*": price("1", "2"),
                                    "*": price("9", "9")})
    assert metering.price_for(settings, "openai:gpt-4o").prompt_per_1k == 5
    assert metering.price_for(settings, "openai:gpt-4o-mini").prompt_per_1k == 1
    assert metering.price_for(settings, "local:smollm2-135m").prompt_per_1k == 9
    with pytest.raises(AppError) as refused:
        metering.price_for(ChatSettings(prices={"openai:*": price("1", "1")}), "local:x")
    assert refused.value.status == 422


def test_default_prices_cover_the_local_model_and_everything_else():
    settings = ChatSettings()
    assert metering.price_for(settings, "local:smollm2-135m") == settings.prices["local:*"]
    assert metering.price_for(settings, "anthropic:claude") == settings.prices["*"]


def test_costs_round_up_with_a_minimum_and_nothing_for_nothing():
    rate = price("0.5", "2", minimum=1)
    assert metering.cost_for(rate, Usage(prompt_tokens=100, completion_tokens=10)) == 1
    assert metering.cost_for(rate, Usage(prompt_tokens=2000, completion_tokens=1000)) == 3
    assert metering.cost_for(rate, Usage(prompt_tokens=2001, completion_tokens=1000)) == 4
    assert metering.cost_for(rate, Usage(prompt_tokens=5000, completion_tokens=0)) == 0
    assert metering.cost_for(price("0", "0", minimum=0),
                             Usage(prompt_tokens=10, completion_tokens=10)) == 0


def test_the_estimate_is_the_longest_reply_to_the_prompt():
    rate = price("1", "3", minimum=2)
    assert metering.estimate_max_cost(rate, prompt_tokens=1500, max_tokens=512) == 4
    assert metering.estimate_max_cost(rate, prompt_tokens=10, max_tokens=10) == 2
    assert metering.estimate_max_cost(rate, prompt_tokens=10, max_tokens=0) == 2
