"""The Jinja2 environment for every page (autoescaping on; nothing is marked safe by default)."""

from collections.abc import Callable
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from clonechats import __version__
from clonechats.accounts import appearance
from clonechats.chat import markdown
from clonechats.personas import avatars
from clonechats.providers.translation.languages import english_name
from clonechats.settings import Settings
from clonechats.web import cookies
from clonechats.web.timestamps import moment

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def signed_in_check(settings: Settings) -> Callable[[Request], bool]:
    """`signed_in(request)` for the menu. Pages that resolved the caller (`request.state.auth`,
    set by `accounts.dependencies.resolve_auth`) get the exact answer; elsewhere a session
    cookie stands for it, and the account pages check it properly when followed."""
    session_cookie = cookies.cookie_name(cookies.SESSION, settings)

    def signed_in(request: Request) -> bool:
        auth = getattr(request.state, "auth", request)
        if auth is not request:
            return auth is not None
        return session_cookie in request.cookies

    return signed_in


def is_admin(request: Request) -> bool:
    """For the menu's Admin link: the resolved caller has the admin role (the admin routes
    check it again on the server)."""
    auth = getattr(request.state, "auth", None)
    return auth is not None and auth.user.get("role") == "admin"


def markdown_filter(text: str | None) -> Markup:
    """`{{ text | markdown }}`: Markdown rendered with raw HTML off, then sanitised."""
    return Markup(markdown.render(text or ""))  # noqa: S704 - sanitised by chat.markdown


def build_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATE_DIR)
    templates.env.filters["markdown"] = markdown_filter
    templates.env.globals.update(
        operator_name=settings.operator_name,
        contact_email=settings.contact_email,
        security_email=settings.security_email,
        version=__version__,
        google_enabled=settings.google.enabled,
        nav_links=[("/", "Home"), ("/personas", "Personas"), ("/explore", "Explore"),
                   ("/pricing", "Pricing")],
        signed_in=signed_in_check(settings),
        language_name=english_name,
        is_admin=is_admin,
        avatar_initials=avatars.initials,
        avatar_colour=avatars.colour_index,
        appearance=appearance.for_request,
    )
    templates.env.filters["moment"] = moment
    return templates
