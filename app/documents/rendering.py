"""Document text: Markdown rendered safely. The parser leaves raw HTML as text (html=False), and
the result is sanitised again with nh3 (Ammonia), so no script, style or event handler can come
through whatever is written."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul", "del",
}  # fmt: skip


def render_markdown(text: str) -> Markup:
    html = _PARSER.render(text or "")
    return Markup(
        nh3.clean(
            html,
            tags=_TAGS,
            attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )
    )
