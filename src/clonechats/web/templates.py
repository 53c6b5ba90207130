"""The Jinja2 environment for every page (autoescaping on; nothing is marked safe by default)."""

from pathlib import Path

from fastapi.templating import Jinja2Templates

from clonechats import __version__
from clonechats.settings import Settings

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def build_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATE_DIR)
    templates.env.globals.update(
        operator_name=settings.operator_name,
        contact_email=settings.contact_email,
        security_email=settings.security_email,
        version=__version__,
        nav_links=[("/", "Home")],
    )
    return templates
