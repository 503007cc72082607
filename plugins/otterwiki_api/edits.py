"""Edit operations on a page's markdown: what an agent does most (append to a log, replace a
section, set a frontmatter field) without sending the whole page back. Pure functions from the
committed text to the new text; the service commits the result like any other write.

Operations (`PATCH /api/v1/pages/<path>` with `operation`, and MCP's `update_note`):
- `append` / `prepend` `content`: at the end, or at the start of the body (after frontmatter);
  they cannot clobber anything, so they need no revision;
- `replace_section` `heading`, `content`: the text under a heading up to the next heading of the
  same or a higher level (the heading itself stays);
- `find_replace` `find`, `replace`, `expected_count` (1): refused unless `find` occurs exactly
  that many times;
- `set_frontmatter` `frontmatter`: fields set (a null removes one), others kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml

from .errors import Invalid
from .frontmatter import FRONTMATTER_RE
from .sections import headings, section_bounds

NEEDS_NO_REVISION = frozenset({"append", "prepend"})
MAX_PAGE_CHARS = 16 * 1024 * 1024  # what an edit may grow a page to (the body limit is 14 MiB)


def _text(operation: Mapping[str, Any], field: str, *, empty: bool = True) -> str:
    value = operation.get(field)
    if not isinstance(value, str) or (not empty and value == ""):
        kind = "a non-empty string" if not empty else "a string"
        raise Invalid(f"{operation.get('operation')}: '{field}' is required and must be {kind}")
    return value


def _line(text: str) -> str:
    return text if text.endswith("\n") or text == "" else text + "\n"


def append(content: str, operation: Mapping[str, Any]) -> str:
    text = _text(operation, "content", empty=False)
    return _line(content) + _line(text)


def prepend(content: str, operation: Mapping[str, Any]) -> str:
    text = _text(operation, "content", empty=False)
    match = FRONTMATTER_RE.match(content)
    head = match.group(0) if match else ""
    return head + _line(text) + content[len(head) :]


def replace_section(content: str, operation: Mapping[str, Any]) -> str:
    wanted = _text(operation, "heading", empty=False)
    new_body = _text(operation, "content")
    bounds = section_bounds(content, wanted)
    if not bounds:
        shown = ", ".join(f"{'#' * level} {text}" for _, level, text in headings(content)[:20])
        raise Invalid(
            f"replace_section: no heading {wanted!r} in the page (headings: {shown or 'none'})"
        )
    if len(bounds) > 1:
        raise Invalid(
            f"replace_section: {len(bounds)} headings are named {wanted!r}; use find_replace"
        )
    _, first, end = bounds[0]
    lines = content.splitlines(keepends=True)
    if first == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"  # the heading was the last line, without a newline
    body = _line(new_body)
    if end < len(lines) and body and not body.endswith("\n\n"):
        body += "\n"  # a blank line before the next heading
    return "".join(lines[:first]) + body + "".join(lines[end:])


def find_replace(content: str, operation: Mapping[str, Any]) -> str:
    find = _text(operation, "find", empty=False)
    replace = _text(operation, "replace")
    expected = operation.get("expected_count", 1)
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 1:
        raise Invalid("find_replace: 'expected_count' must be a positive integer")
    count = content.count(find)
    if count != expected:
        raise Invalid(
            f"find_replace: expected {expected} occurrence(s) of 'find', found {count}; "
            "nothing was changed"
        )
    if len(content) + count * (len(replace) - len(find)) > MAX_PAGE_CHARS:
        raise Invalid(f"find_replace: the page would grow past {MAX_PAGE_CHARS} characters")
    return content.replace(find, replace)


def set_frontmatter(content: str, operation: Mapping[str, Any]) -> str:
    fields = operation.get("frontmatter")
    if not isinstance(fields, dict) or not fields:
        raise Invalid("set_frontmatter: 'frontmatter' must be a non-empty object of fields")
    # the block as YAML reads it (dates stay dates), not the JSON-safe copy the index keeps
    match = FRONTMATTER_RE.match(content)
    current: Any = {}
    if match:
        try:
            current = yaml.safe_load(match.group(1) or "") or {}
        except yaml.YAMLError:
            current = None
        if not isinstance(current, dict):
            raise Invalid(
                "set_frontmatter: the page's frontmatter is not valid YAML; fix it with a full "
                "write"
            )
    body = content[match.end() :] if match else content
    merged = dict(current)
    for key, value in fields.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if not merged:
        return body
    dumped = yaml.safe_dump(merged, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{dumped}---\n{body}"


OPERATIONS: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "append": append,
    "prepend": prepend,
    "replace_section": replace_section,
    "find_replace": find_replace,
    "set_frontmatter": set_frontmatter,
}


def operation_of(
    operation: object,
) -> tuple[Callable[[str, Mapping[str, Any]], str], dict[str, Any]]:
    """The edit function an operation object names, and its fields (a clear 422 otherwise)."""
    if not isinstance(operation, Mapping):
        raise Invalid("the edit must be an object with an 'operation' field")
    name = operation.get("operation")
    if not isinstance(name, str) or name not in OPERATIONS:
        raise Invalid(f"'operation' must be one of {', '.join(OPERATIONS)}, not {name!r}")
    return OPERATIONS[name], dict(operation)
