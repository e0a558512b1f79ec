"""No word from the code reaches a page: every page, as every role, is read as a person reads it
(the visible text, without tags, scripts or attribute values) and holds no snake_case word, no
English code of an enum and no "UTC"."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask

import mda.models  # noqa: F401  - every enum class is defined
from mda.enums import LabelledEnum
from tests.test_access_matrix import ROLES, ROUTES, World, _client_for, world  # noqa: F401

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
# Codes that are also Dutch (or loan) words people use: they may appear in a sentence.
DUTCH_WORDS = {"expert", "herstel", "participatie", "partner", "admin", "urgent", "basisteam", "huisverbod",
               "uitvoering", "open", "export", "print"}


def _all_enums() -> list[type[LabelledEnum]]:
    found, todo = [], list(LabelledEnum.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def english_codes() -> set[str]:
    """Single-word codes that differ from their Dutch label: 'male', 'pending', 'read' ..."""
    codes = set()
    for enum_class in _all_enums():
        for member in enum_class:
            value = member.value
            if "_" in value or not value.isalpha() or len(value) < 3 or value.lower() == member.label.lower():
                continue
            if value not in DUTCH_WORDS:
                codes.add(value)
    return codes


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <code> holds machine values shown on purpose (an API key's random prefix such as
        # "mda_8pcq8i"), not words of the interface.
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:  # read aloud or shown: labels, titles, placeholders, alt texts
            if name in ("aria-label", "title", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def problems_in(text: str, codes: set[str]) -> list[str]:
    found = [f"code word {word!r}" for word in sorted(set(SNAKE.findall(text)))]
    found += [f"English code {word!r}" for word in sorted(codes & set(re.findall(r"\b[a-z]+\b", text)))]
    if re.search(r"\bUTC\b", text):
        found.append("UTC")
    return found


def test_the_checker_finds_what_it_should() -> None:
    codes = english_codes()
    assert {"male", "submitted", "read"} <= codes and not codes & DUTCH_WORDS
    text = visible_text('<p title="journal_entry">Persoon <b>house_ban_protected_person</b> 12:00 UTC male</p>'
                        '<script>var snake_case = 1;</script><a href="/x_y">Terug</a>')
    assert problems_in(text, codes) == ["code word 'house_ban_protected_person'", "code word 'journal_entry'",
                                        "English code 'male'", "UTC"]


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_no_code_words_on_any_page_for_any_role(app: Flask, world: World, role: str) -> None:  # noqa: F811
    client = _client_for(app, world, role)
    codes = english_codes()
    failures = []
    for endpoint, routes in ROUTES.items():
        for route in routes:
            if route.method != "GET" or endpoint in ("static", "bootstrap.static") or role not in route.allowed:
                continue
            with client.get(route.url(world)) as response:
                if response.status_code != 200 or not response.mimetype == "text/html":
                    continue
                text = visible_text(response.get_data(as_text=True))
            failures.extend(f"{endpoint}: {problem}" for problem in problems_in(text, codes))
    assert not failures, "\n".join(sorted(set(failures)))
