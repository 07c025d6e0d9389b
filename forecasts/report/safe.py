"""Escaping for crawled, hostile strings: every value from a run directory passes through here before output.

Titles, URLs, text, languages, parameter values and file names come from the web or the user. They are shown
as inert text: HTML-escaped in markup, `<`/`>`/`&`/U+2028/U+2029-escaped in JSON inside `<script>`, and in
Plotly labels (which parse a small HTML subset) as escaped entities. URLs are shown as text, never as links.
"""

from __future__ import annotations

import html
import re
from typing import Any

# JSON inside <script> must not contain "</script", "<!--" or line terminators that JavaScript rejects.
_SCRIPT_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SCRIPT_JSON_RE = re.compile("[<>&\u2028\u2029]")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(value: Any) -> str:
    """A printable string: control characters and lone surrogates (unencodable as UTF-8) become U+FFFD."""
    return _CONTROL_RE.sub("\ufffd", str(value))


def esc(value: Any) -> str:
    """HTML-escape any value for element text or a quoted attribute."""
    return html.escape(clean(value), quote=True)


def truncate(value: Any, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    text = clean(value)
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def label(value: Any, limit: int = 60) -> str:
    """A data string for Plotly text (axis categories, legend, hover): Plotly renders `<b>`, `<a href>` and
    entities, so the string is truncated and HTML-escaped to show literally."""
    return esc(truncate("(none)" if value is None else value, limit))


def script_json(text: str) -> str:
    """Make JSON text safe to embed verbatim between `<script type="application/json">` tags."""
    return _SCRIPT_JSON_RE.sub(lambda m: _SCRIPT_JSON_ESCAPES[m.group()], text)


def url_text(value: Any, limit: int = 160) -> str:
    """A URL as escaped, truncated text in <code>: never a link, whatever its scheme."""
    if value is None or value == "":
        return '<span class="muted">(no URL)</span>'
    return f'<code class="url">{esc(truncate(value, limit))}</code>'
