"""The web chat page's own words in English and Spanish (`chat_words.yml`, reviewed as data),
and the language a browser asks for.

The server renders the page in the language it starts in (the browser's `Accept-Language`:
Spanish for any `es` tag) and embeds every word of both languages, so the page can switch when
a reply arrives in the other language or she chooses one. The same header, sent with each
`POST /api/chat`, is her platform's language hint for the gateway.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bots import wording

WORDS_FILE = Path(__file__).parent / "chat_words.yml"
LANGUAGES = ("en", "es")
# A language tag as RFC 5646 writes it ("es", "es-419", "en-US", "zh-Hant-TW"), kept short.
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,3}$")
MAX_TAG_LENGTH = 35
SAFE_HREF = re.compile(r"^(tel|sms):[0-9]{3,15}$")
PLACEHOLDER = re.compile(r"\{\{t:([a-z_]+)\}\}")

Words = dict[str, dict[str, Any]]  # language -> key -> text, or a list of pieces with links


def preferred_language_tag(accept_language: str | None) -> str | None:
    """The language a browser puts first in its `Accept-Language` header ("es-MX,es;q=0.9,
    en;q=0.8" -> "es-MX"), by quality then order; None without a usable one. Nothing else in
    the header is kept."""
    if not accept_language:
        return None
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if len(tag) > MAX_TAG_LENGTH or not LANGUAGE_TAG.match(tag):
            continue  # "*" and anything malformed say nothing about her language
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if not 0.0 < quality <= 1.0:
            continue
        candidate = (-quality, position, tag)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def page_language(tag: str | None) -> str:
    """The page's language for a language tag: Spanish for any Spanish ("es", "es-419",
    "es-ES"), English otherwise."""
    primary = (tag or "").split("-", 1)[0].lower()
    return "es" if primary == "es" else "en"


@cache
def chat_words() -> Words:
    """Every word of the chat page, by language; read once, when first asked for. Refuses a
    file where a word is missing in one language or a link is not a directory number."""
    loaded = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{WORDS_FILE.name} must map each word's key to its languages")
    words: Words = {language: {} for language in LANGUAGES}
    for key, by_language in loaded.items():
        if key == "welcome":  # the English welcome is the gateway's wording
            by_language = {"en": wording.web_welcome().text, **by_language}
        for language in LANGUAGES:
            value = by_language.get(language) if isinstance(by_language, dict) else None
            if not _well_formed(value):
                raise ValueError(f"{WORDS_FILE.name}: {key} has no usable {language!r} words")
            words[language][key] = value
    return words


def _well_formed(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if not isinstance(value, list) or not value:
        return False
    for piece in value:
        if isinstance(piece, dict):
            if not (isinstance(piece.get("text"), str) and SAFE_HREF.match(piece.get("href", ""))):
                return False
        elif not isinstance(piece, str):
            return False
    return True


def _as_html(value: Any) -> str:
    """Words as HTML: text escaped, links built only from the file's tel: and sms: numbers."""
    if isinstance(value, str):
        return html.escape(value)
    parts = []
    for piece in value:
        if isinstance(piece, str):
            parts.append(html.escape(piece))
            continue
        label = piece.get("label")
        labelled = f' aria-label="{html.escape(label)}"' if label else ""
        href, words = html.escape(piece["href"]), html.escape(piece["text"])
        parts.append(f'<a href="{href}"{labelled}>{words}</a>')
    return "".join(parts)


def render_chat_page(template: str, language: str) -> str:
    """The chat page in `language`: `{{lang}}`, each `{{t:key}}` and the first-visit welcome
    filled in, and both languages' words embedded (as JSON data, which the CSP lets the page's
    own script read) for switching."""
    words = chat_words()
    own = words[language]
    page = template.replace("{{lang}}", language)
    page = page.replace("{{welcome}}", html.escape(own["welcome"]))
    page = PLACEHOLDER.sub(lambda match: _as_html(own[match.group(1)]), page)
    # "<" escaped inside the JSON: no text in it can close the script element.
    embedded = json.dumps(words, ensure_ascii=False).replace("<", "\\u003c")
    return page.replace("{{words}}", embedded)
