"""Playing the authenticator app in a real browser: turning two-factor on from its page and
answering the sign-in's code step. The live server runs on the real clock, so each account's
state (secret, last time step used, recovery codes) is kept here: a code is never offered
twice, and once the current window's codes are used a recovery code stands in."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp
from playwright.sync_api import Page, expect


@dataclass
class Authenticator:
    secret: str
    last_step: int
    recovery_codes: list[str] = field(default_factory=list)

    def next_code(self) -> str:
        totp = pyotp.TOTP(self.secret)
        current = totp.timecode(datetime.now(UTC))
        # Not the step before: the server's clock may pass into the next step before it
        # checks the code, and then takes only this step and the two after it.
        step = max(current, self.last_step + 1)
        if step > current + 1:
            return self.recovery_codes.pop()
        self.last_step = step
        return totp.generate_otp(step)


AUTHENTICATORS: dict[str, Authenticator] = {}


def turn_on(page: Page, email: str) -> Authenticator:
    """From a signed-in page: set up two-factor, confirm it with a code, keep the recovery
    codes."""
    page.goto("/account/two-factor")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    secret = page.get_by_label("Setup key").input_value()
    authenticator = Authenticator(secret=secret, last_step=-1)
    page.get_by_label("The 6-digit code your app shows now").fill(authenticator.next_code())
    page.get_by_role("button", name="Turn on").click()
    codes = page.get_by_label("Recovery codes")
    expect(codes).to_be_visible()
    authenticator.recovery_codes = codes.input_value().split()
    assert len(authenticator.recovery_codes) == 10
    AUTHENTICATORS[email] = authenticator
    return authenticator


def answer_code_step(page: Page, email: str) -> None:
    """After the password, when the account has two-factor on: enter the next code."""
    authenticator = AUTHENTICATORS.get(email)
    if authenticator is None:
        return
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    page.get_by_label("Code", exact=True).fill(authenticator.next_code())
    page.get_by_role("button", name="Continue").click()
