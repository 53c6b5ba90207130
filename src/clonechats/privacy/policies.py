"""Facts the policy documents are written from, taken from configuration and the code's tables.

Processors come from `settings.privacy.processors`, or else from the vendors this instance is
actually configured to use; retention periods from `retention_rules.RULES` and the privacy registry;
cookies from `web.cookies.COOKIES`. `documents.py` turns these facts into the pages, the
export's "about" section reuses them, so what the documents say is what this instance does.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from clonechats.privacy import registry, retention_rules
from clonechats.settings import ProcessorSpec, Settings
from clonechats.web import cookies

SECURITY_TXT_DAYS = 365


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


def processors(settings: Settings) -> list[ProcessorSpec]:
    """Who receives personal data on the operator's behalf, as configured."""
    if settings.privacy.processors is not None:
        return list(settings.privacy.processors)
    found = [ProcessorSpec(name=settings.privacy.hosting, purpose="Runs the app, its database "
                           "and its files", data_received="Everything this policy describes, "
                           "stored encrypted at rest where the host offers it",
                           region=settings.privacy.hosting_region)]
    if settings.uses_mongodb and "mongodb.net" in (settings.database_url or ""):
        found.append(ProcessorSpec(name="MongoDB Atlas", purpose="Managed database",
                                   data_received="The database: everything this policy "
                                   "describes except media files",
                                   region="the region of the operator's cluster"))
    if settings.email.provider == "resend":
        found.append(ProcessorSpec(name="Resend", purpose="Delivering the emails we send you",
                                   data_received="Your email address and each email's content",
                                   region="United States"))
    if settings.billing.provider == "cashfree":
        found.append(ProcessorSpec(name="Cashfree Payments", purpose="Payments, refunds and "
                                   "their notifications", data_received="Order id, amount and "
                                   "currency, an id for you and your email address; your card "
                                   "or UPI details go to them directly, never to us",
                                   region="India"))
    vendors = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google (Gemini)"}
    for vendor in settings.llm.vendors_enabled:
        found.append(ProcessorSpec(name=vendors[vendor], purpose="Writing persona replies, "
                                   "when a persona uses one of its models",
                                   data_received="The persona's instructions and memories and "
                                   "the recent messages of the conversation, for each reply",
                                   region="United States"))
    if settings.google.enabled:
        found.append(ProcessorSpec(name="Google (Sign in with Google)", purpose="Signing you in"
                                   " when you choose Google", data_received="Google sends us "
                                   "your Google account id, email address and name; we send it "
                                   "nothing about you", region="United States"))
    if settings.video.provider == "fal":
        found.append(ProcessorSpec(name="fal.ai", purpose="Rendering video replies, when you "
                                   "ask for one", data_received="The voice clip of the reply "
                                   "and the persona's image, for the duration of the render",
                                   region="United States"))
    return found


def regions(settings: Settings) -> list[str]:
    places = [settings.privacy.hosting_region] + [p.region for p in processors(settings)]
    return list(dict.fromkeys(places))


def retention_table() -> Table:
    """Data kept for a set time, one row per category of `retention_rules.RULES`."""
    rows: dict[str, tuple[str, ...]] = {}
    for rule in retention_rules.RULES:
        rows.setdefault(rule.category, (rule.category, rule.period))
    return Table(("Data", "How long we keep it"), list(rows.values()))


def kept_until_deleted() -> Table:
    """What each domain holds, kept until the user deletes it or the account."""
    return Table(("Data", "What it covers"),
                 [(holder.name.replace("_", " ").capitalize(), holder.description)
                  for holder in registry.holders()])


def cookie_table(settings: Settings) -> Table:
    return Table(("Cookie", "Purpose", "Lifetime", "Kind"),
                 [(cookies.cookie_name(c, settings), c.purpose, c.lifetime,
                   "Strictly necessary" if c.strictly_necessary else "Optional")
                  for c in cookies.COOKIES])


def processor_table(settings: Settings) -> Table:
    return Table(("Processor", "Purpose", "Data it receives", "Where"),
                 [(p.name, p.purpose, p.data_received, p.region) for p in processors(settings)])


RIGHTS = [
    "Access: get a copy of everything we hold about you (Privacy Settings → Export).",
    "Correction: fix what is wrong (your account settings, or ask us).",
    "Deletion: delete any conversation, memory, persona or file, or the whole account.",
    "Portability: the export is a machine-readable JSON file you can take elsewhere.",
    "Objection and restriction: ask us to stop or limit a use of your data.",
    "Withdrawing consent: turn analytics off at any time; it takes effect at once.",
    "Complaint: you may complain to your data protection supervisory authority.",
]

PURPOSES = [
    "Providing the service you asked for: your account, personas, conversations and media.",
    "Keeping accounts and payments safe: sign-in protection, fraud and abuse detection.",
    "Billing: selling credits and subscriptions, and keeping the records tax law requires.",
    "Understanding use, only if you opt in: anonymous counts of pages and features.",
]


def export_about(settings: Settings) -> dict[str, Any]:
    """What an export tells its reader besides the data (GDPR Art. 15(1))."""
    return {
        "purposes": PURPOSES,
        "recipients": [p.model_dump() for p in processors(settings)],
        "regions": regions(settings),
        "retention": [dict(zip(("data", "period"), row, strict=True))
                      for row in retention_table().rows],
        "kept_until_deleted": "Everything else here is kept until you delete it or your "
                              "account.",
        "rights": RIGHTS,
        "source": "Everything here was given by you or recorded while you used the service; "
                  "nothing comes from other sources except, if you use it, the name and email "
                  "Google sends when you sign in with Google.",
        "automated_decisions": "None with legal or similarly significant effects. Messages "
                               "may be screened automatically for safety.",
        "policy_version": settings.privacy.policy_version,
    }


def security_txt(settings: Settings, now: datetime) -> str:
    """RFC 9116 `/.well-known/security.txt`."""
    base = settings.public_url.rstrip("/")
    expires = (now + timedelta(days=SECURITY_TXT_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"Contact: mailto:{settings.security_email}\n"
            f"Expires: {expires}\n"
            f"Policy: {base}/security\n"
            "Preferred-Languages: en\n"
            f"Canonical: {base}/.well-known/security.txt\n")
