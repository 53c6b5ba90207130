"""The policy documents (privacy, cookies, security, terms), written from `policies`' facts.

Each document is a heading and sections of paragraphs, lists and tables; the page template
renders them with autoescaping. Operator name, contact addresses, processors, regions,
retention periods and cookies all come from configuration or the code's own tables.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from clonechats.accounts.age import ADULT_AGE, MINIMUM_AGE
from clonechats.privacy import policies
from clonechats.privacy.policies import Table
from clonechats.settings import Settings


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    table: Table | None = None


@dataclass(frozen=True)
class Document:
    heading: str
    sections: list[Section]


def privacy(s: Settings) -> Document:
    contact = s.contact_email
    return Document("Privacy", [
        Section("Who we are", [
            f"{s.operator_name} runs this service, where you create AI personas and talk to "
            f"them in text, voice and video. Questions about your data go to {contact}.",
            "We collect only what the service needs to work. We never sell or rent your data "
            "and never use it for advertising."]),
        Section("What we hold about you", items=[
            "Account: email address, display name if you give one, a bcrypt hash of your "
            "password (never the password), how you sign in, whether your email is confirmed, "
            "when you joined, your role, plan and credit balance, and your birth date (for the "
            "age rules).",
            "Sign-in and sessions: sessions (stored only as digests of random tokens), sign-in "
            "attempts and failure counters that protect against password guessing, your "
            "browser's name, and a keyed one-way hash of your network address. We never store "
            "a raw IP address. For a free trial, a random device id kept in your browser.",
            "What you create: personas (names, traits, instructions, sliders, memories), "
            "conversations and messages, uploaded images and voice recordings, favourites and "
            "share links.",
            "Generated media: voice clips and short videos made for you, with their details "
            "(length, language, provider job ids).",
            "Payments: the plan or credits you bought, our order ids, the payment provider's "
            "order ids and payment status, and logs of the provider's signed notifications. "
            "We never see or store card numbers, CVVs, UPI PINs or bank credentials.",
            "Usage and abuse signals: what each reply cost (tokens, credits, timing), when you "
            "ran out of credits, and safety flags on messages.",
            f"Emails you send to {contact} and our replies."]),
        Section("Why we use it", items=policies.PURPOSES),
        Section("Cookies", [
            "We set only strictly necessary cookies: your session, a form-protection token, "
            "and a device id for free trials. Analytics are off unless you turn them on in "
            "Privacy Settings, and then they are anonymous counts kept on our own server, "
            "with no cookie. The cookie policy lists every cookie."]),
        Section("How long we keep it", [
            "What you create and your account stay until you delete them; deleting your "
            "account removes all of it. Some data is kept for a set time, enforced every day "
            "by an automatic job:"], table=policies.retention_table()),
        Section("Until you delete it", ["Each part of the service keeps its share of your data "
                                         "until you delete it or your account:"],
                table=policies.kept_until_deleted()),
        Section("When you delete your account", [
            "You confirm with your password (or a fresh Google sign-in), every session ends at "
            "once, and everything you own is deleted, files included. Payment orders and "
            "their logs are kept for the statutory period with your identity replaced by a "
            "pseudonym; the security log keeps only hashed addresses. We email you a receipt."]),
        Section("Your rights", [
            f"Use Privacy Settings, or write to {contact}. We acknowledge within 3 business "
            "days and answer within 30 days; for a complex request we may need to confirm "
            "who you are."], items=policies.RIGHTS),
        Section("Who else handles your data", [
            "Only these processors receive data from us, each only what it needs to do its "
            "job and only on our instructions:"], table=policies.processor_table(s)),
        Section("Where your data is processed", [
            "Your data is processed in: " + "; ".join(policies.regions(s)) + ". Transfers "
            "between countries rely on standard contractual clauses or equivalent safeguards "
            "where the law requires them."]),
        Section("Children", [
            f"The service is not for children under {MINIMUM_AGE}: we refuse their sign-up "
            "and keep only a short-lived hash of the email. From "
            f"{MINIMUM_AGE} to {ADULT_AGE - 1}, a parent or guardian must approve the account "
            "and choose the plans it may use. If we learn that an account belongs to a child "
            f"under {MINIMUM_AGE}, we delete it with everything it holds. Tell us at "
            f"{contact}."]),
        Section("Security", [
            "Passwords are hashed with bcrypt, traffic is encrypted, payment notifications "
            "are verified with HMAC-SHA256 signatures and administration needs an explicit "
            f"role. See the security page; report problems to {s.security_email}."]),
        Section("Changes", [
            "When we change something material, the date below changes and every user sees "
            "a notice after signing in until they acknowledge it.",
            f"Version {s.privacy.policy_version}, last updated "
            f"{s.privacy.policy_date.day} {s.privacy.policy_date:%B %Y}."]),
    ])


def cookies(s: Settings) -> Document:
    return Document("Cookies", [
        Section("Strictly necessary only", [
            "These are all the cookies this site sets. Each one is needed for the service "
            "to work, so none asks for consent, and none is used for advertising or shared "
            "with anyone."], table=policies.cookie_table(s)),
        Section("Payments", [
            "Coming back from a payment page needs no extra cookie: your session cookie "
            "brings you back to your order."] + ([
                "The payment page itself belongs to Cashfree Payments, which may set its own "
                "cookies there under its own policy."] if s.billing.provider == "cashfree"
                else [])),
        Section("Analytics", [
            "Analytics are off unless you turn them on in Privacy Settings. They use no "
            "cookie: your choice is stored with your account on our server, and when it is "
            "on we count pages and features per day, without knowing who viewed them. "
            "Visitors who are not signed in are never counted."]),
    ])


def security(s: Settings) -> Document:
    return Document("Security", [
        Section("Reporting a vulnerability", [
            f"Write to {s.security_email} with the subject line SECURITY and enough detail "
            "to reproduce the problem. We acknowledge reports within 3 business days and do "
            "not take action against research done in good faith. Our contact details are "
            "also in /.well-known/security.txt."]),
        Section("How we protect your data", items=[
            f"Passwords: bcrypt with cost {s.accounts.bcrypt_rounds}; checked against common "
            "passwords.",
            "Sessions: random 256-bit tokens stored only as SHA-256 digests, HttpOnly cookies, "
            "rotated at every sign-in, ended at sign-out and on account deletion.",
            "Forms: every change is protected by a signed anti-forgery token.",
            "Network addresses: kept only as keyed one-way hashes, never raw.",
            "Payments: notifications are verified with HMAC-SHA256 on the raw body, within "
            "a time window, and processed once each.",
            "Administration: every admin action checks the admin role on the server.",
            "Traffic: HTTPS with strict transport security in production."]),
    ])


def terms(s: Settings) -> Document:
    return Document("Terms", [
        Section("The service", [
            f"{s.operator_name} lets you create AI personas and talk with them. Replies are "
            "written by language models: they can be wrong, and personas are fictional "
            "characters, not real people."]),
        Section("Your account", [
            f"You must be at least {MINIMUM_AGE}; under {ADULT_AGE}, a parent or guardian "
            "must approve your account. Keep your password to yourself; you are responsible "
            "for what is done with your account."]),
        Section("What you create", [
            "You keep the rights to what you create. Personas you make public can be seen "
            "and talked to by others; you can make them private again or delete them. Do not "
            "create content that is illegal, impersonates a real person to deceive, or harms "
            "others; we may remove it and close accounts that do."]),
        Section("Credits and payments", [
            "Credits pay for generations; prices are shown before you buy. Payments are "
            "handled by our payment provider."]),
        Section("Ending", [
            "You can delete your account at any time from Privacy Settings. Questions about "
            f"these terms go to {s.contact_email}."]),
        Section("Privacy", ["How we handle your data is described in the privacy policy."]),
    ])


DOCUMENTS: dict[str, Callable[[Settings], Document]] = {
    "privacy": privacy, "cookies": cookies, "security": security, "terms": terms,
}
