"""Message templates: `{variable}` placeholders checked when the library loads and rendered per
user in bulk. A user lacking a value a template needs gets no message (the step is cancelled with
reason missing_variable:<name>), never a message with a hole in it."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

VARIABLES: dict[str, str] = {
    "nickname": "the user's nickname",
    "recommendation": "a personal recommendation (the user's most used feature lately)",
    "benefit": "the benefit, e.g. '$15 coupon'",
    "coupon_code": "the journey's unique coupon code",
    "countdown": "time left to use the benefit, e.g. '5 days'",
    "link": "the journey's personal landing link",
}
NEEDS_BENEFIT = ("benefit", "coupon_code", "countdown")
# Push and SMS previews show the first characters: the nickname must start within them.
NICKNAME_WITHIN = 10


def parts(text: str) -> list[tuple[str, str | None]]:
    """(literal, variable or None) pairs of a template, in order."""
    return [(literal, field) for literal, field, _, _ in string.Formatter().parse(text)]


def template_problems(text: str, channel: str | None = None, has_benefit: bool = True) -> list[str]:
    """Why a template cannot be used (empty list when it can), for the step's channel and benefit."""
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"malformed placeholder: {exc}"]
    problems = []
    for _, field, spec, conversion in pieces:
        if field is None:
            continue
        if field not in VARIABLES:
            problems.append(f"unknown variable {{{field}}} (known: {', '.join(VARIABLES)})")
        elif spec or conversion:
            problems.append(f"{{{field}}} must be a bare placeholder, without format spec or conversion")
        elif field in NEEDS_BENEFIT and not has_benefit:
            problems.append(f"uses {{{field}}} but the step offers no benefit")
    if channel in ("push", "sms"):
        position = text.find("{nickname}")
        if position < 0 or position >= NICKNAME_WITHIN:
            problems.append(f"a {channel} message must start the nickname within its first {NICKNAME_WITHIN} characters")
    return problems


def render_bulk(template_names: pd.Series, values: pd.DataFrame, templates: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """(message, missing) per row: the rendered text, or null and the first variable lacking a value.

    `values` holds one column per variable, aligned with `template_names`. Works on arrays by row position: a day
    renders a few dozen (template, variable) pieces, and indexing the frame by label for each cost more than the text.
    """
    if not values.index.equals(template_names.index):
        values = values.reindex(template_names.index)
    n = len(template_names)
    messages, missing = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    shown: dict[str, np.ndarray] = {}  # per variable, every row's text ('' where it has no value)
    codes, names = pd.factorize(template_names)  # -1: no template, no message
    for code, rows in (pd.Series(np.arange(n)).groupby(codes).indices.items() if n else ()):
        if code < 0:
            continue
        text = np.full(len(rows), "", dtype=object)
        lacking = np.full(len(rows), None, dtype=object)
        for literal, field in parts(templates[names[code]]):
            text = text + literal
            if field is None:
                continue
            if field not in shown:
                column = values[field]
                shown[field] = column.astype(object).where(column.notna(), "").astype(str).to_numpy(dtype=object)
            piece = shown[field][rows]
            lacking = np.where((piece == "") & pd.isna(lacking), field, lacking)
            text = text + piece
        messages[rows] = np.where(pd.isna(lacking), text, None)
        missing[rows] = lacking
    index = template_names.index
    return pd.Series(messages, index=index, dtype=object), pd.Series(missing, index=index, dtype=object)
