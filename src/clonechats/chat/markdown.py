"""Model replies as safe HTML: Markdown rendered with raw HTML off, then sanitised.

Two layers, so a gap in one is caught by the other: `markdown-it-py` renders CommonMark (plus
tables and strikethrough) with `html=False`, so any HTML the model writes comes out as text,
and with images switched off (an image URL is a way to send data out of the page). `nh3` then
keeps only a small set of tags and attributes. Links may point only at absolute `http`,
`https` or `mailto` URLs, open in a new tab and carry `rel="noopener noreferrer nofollow"`.
The result is stored on the message and rendered as is by the chat page.
"""

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
ABSOLUTE_PREFIXES = ("http://", "https://", "mailto:")
LINK_REL = "noopener noreferrer nofollow"

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_renderer.enable(["table", "strikethrough"])
_renderer.disable("image")


def _keep_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return value if value.strip().lower().startswith(ABSOLUTE_PREFIXES) else None
    return value


def sanitise(html: str) -> str:
    """Only the allowed tags and attributes; everything else removed (scripts with their
    content), links made safe."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_absolute_links,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )


def render(text: str) -> str:
    """Markdown `text` as sanitised HTML."""
    return sanitise(_renderer.render(text or ""))
