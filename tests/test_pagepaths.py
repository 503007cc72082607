"""Each page-path and attachment-name rule, at its boundary and with the reason it names (a
client is told which rule it broke, not only that one did)."""

from __future__ import annotations

import pytest
from otterwiki_api.errors import Invalid
from otterwiki_api.pagepaths import (
    MAX_PATH_CHARS,
    MAX_SEGMENT_BYTES,
    refuse_shadowed,
    validate_attachment_name,
    validate_page_path,
)


@pytest.mark.parametrize(
    "path, reason",
    [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        ("x" * (MAX_PATH_CHARS + 1), f"longer than {MAX_PATH_CHARS} characters"),
        ("/abs", "must be relative"),
        ("\\abs", "must be relative"),
        ("C:x", "must be relative"),
        ("C:", "must be relative"),
        ("a/../b", "'.' or '..' segments"),
        ("a/./b", "'.' or '..' segments"),
        ("a?b", "may not contain any of"),
        ("-a", "may not contain any of"),
        ("y" * (MAX_SEGMENT_BYTES + 1), f"segment is longer than {MAX_SEGMENT_BYTES} bytes"),
        ("ü" * (MAX_SEGMENT_BYTES // 2 + 1), "segment is longer"),  # bytes, not characters
        ("a\ufffdb", "not valid UTF-8"),
        ("a\nb", "control characters"),
        (42, "must be a string"),
    ],
)
def test_page_path_rules(path, reason):
    with pytest.raises(Invalid, match=reason.replace("?", r"\?").replace(".", r"\.")):
        validate_page_path(path)


@pytest.mark.parametrize(
    "path, canonical",
    [
        ("y" * MAX_SEGMENT_BYTES, "y" * MAX_SEGMENT_BYTES),  # exactly at the limit
        ("Page.md", "Page"),
        ("/".join(["z" * 100] * 5), "/".join(["z" * 100] * 5)),  # 504 chars: under 512
        ("Über/Straße", "Über/Straße"),
        ("/".join(["z" * 170] * 3), "/".join(["z" * 170] * 3)),  # exactly 512 characters
        ("A", "A"),  # one character: no drive letter to look at
    ],
)
def test_page_paths_at_the_limits_pass(path, canonical):
    assert validate_page_path(path) == canonical


@pytest.mark.parametrize(
    "name, reason",
    [
        ("", "non-empty"),
        (" ", "non-empty"),
        (None, "non-empty"),
        ("a/b", "plain name"),
        ("a\\b", "plain name"),
        ("..", "plain name"),
        (".", "plain name"),
        ("x.md", "must not end in .md"),
        ("X.MD", "must not end in .md"),
        (".hidden", "must not start with '.'"),
        ("git~1", "change how git treats the folder"),
        ("GIT~1", "change how git treats the folder"),
        ("x" * (MAX_SEGMENT_BYTES + 1), f"longer than {MAX_SEGMENT_BYTES} bytes"),
        ("a\ufffd", "not valid UTF-8"),
        ("a\tb", "control characters"),
        (" a", "a safe form would be 'a'"),  # what Otterwiki would store instead
        ("a.", "a safe form would be 'a'"),
    ],
)
def test_attachment_name_rules(name, reason):
    with pytest.raises(Invalid, match=reason.replace(".", r"\.").replace("~", "~")):
        validate_attachment_name(name)


def test_attachment_names_at_the_limits_pass():
    assert validate_attachment_name("x" * MAX_SEGMENT_BYTES) == "x" * MAX_SEGMENT_BYTES
    assert validate_attachment_name("notes.txt") == "notes.txt"


@pytest.mark.parametrize(
    "path, route",
    [
        ("X/history", "/pages/<page>/history"),
        ("X/rename", "/pages/<page>/rename"),
        ("X/attachments", "/pages/<page>/attachments route"),
        ("X/attachments/y", "/pages/<page>/attachments/<name>"),
        ("X/Y/attachments/z", "/pages/<page>/attachments/<name>"),
    ],
)
def test_shadowed_paths(path, route):
    with pytest.raises(Invalid, match="collides") as refused:
        refuse_shadowed(path)
    assert route in refused.value.message


@pytest.mark.parametrize("path", ["history", "X/History Notes", "attachments/y/z", "X/y"])
def test_paths_nothing_shadows(path):
    refuse_shadowed(path)  # a top-level page, a longer name, a deeper page: readable
