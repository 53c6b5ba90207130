"""Replies as HTML: Markdown renders, and nothing active survives."""

from html.parser import HTMLParser

import pytest

from clonechats.chat.markdown import ALLOWED_TAGS, render

LINK_ATTRS = 'target="_blank" rel="noopener noreferrer nofollow"'


def test_markdown_renders_the_usual_things():
    html = render("# Title\n\n**bold** _it_ `code` ~~gone~~\n\n- one\n- two\n\n"
                  "> quote\n\n```python\nx < 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    for piece in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>it</em>", "<code>code</code>",
                  "<s>gone</s>", "<li>one</li>", "<blockquote>", "<pre><code>x &lt; 1\n</code>",
                  "<td>1</td>"):
        assert piece in html, piece


def test_links_are_safe_and_open_in_a_new_tab():
    html = render("[site](https://example.com/a?b=1) <https://example.org> <mailto:a@b.example>")
    assert f'<a href="https://example.com/a?b=1" {LINK_ATTRS}>site</a>' in html
    assert f'<a href="https://example.org" {LINK_ATTRS}>' in html
    assert 'href="mailto:a@b.example"' in html


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "hello <script>alert(document.cookie)</script> world",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<img src=x onerror="alert(1)">',
    "![pixel](https://tracker.example/p.gif?secret=1)",
    '<a href="https://example.com" onclick="steal()">raw link</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<svg/onload=alert(1)>",
    '[x](https://ok.example "title" onmouseover=alert(1))',
    "<!-- <script>alert(1)</script> -->",
    "[relative](/logout) [proto-relative](//evil.example/x)",
])
def test_nothing_active_survives(text):
    tags = Markup.of(render(text))
    for tag, attributes in tags:
        assert tag in ALLOWED_TAGS, (tag, text)
        for name, value in attributes:
            assert name in {"href", "title", "target", "rel", "start"}, (name, text)
            if name == "href":
                assert value.startswith(("https://", "http://", "mailto:")), (value, text)


class Markup(HTMLParser):
    """The tags and attributes of an HTML fragment, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    @classmethod
    def of(cls, html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
        parser = cls()
        parser.feed(html)
        return parser.found


def test_raw_html_is_shown_as_text():
    html = render('<b onclick="x()">hi</b> <script>alert(1)</script>')
    assert [tag for tag, _ in Markup.of(html)] == ["p"]
    assert "&lt;b onclick=" in html and "&lt;script&gt;" in html
