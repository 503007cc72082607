"""The edit operations as functions of the page's text (`otterwiki_api.edits`): the edge cases
the REST and MCP tests do not reach (found by mutation testing, scripts/mutation.py)."""

from __future__ import annotations

from typing import Any

import pytest
from otterwiki_api.edits import operation_of
from otterwiki_api.errors import Invalid


def edit(page: str, /, **operation: Any) -> str:
    function, fields = operation_of(operation)
    return function(page, fields)


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"operation": "append", "content": ""},
            "append: 'content' is required and must be a non-empty string",
        ),
        (
            {"operation": "prepend", "content": ""},
            "prepend: 'content' is required and must be a non-empty string",
        ),
        (
            {"operation": "replace_section", "heading": "", "content": "x"},
            "replace_section: 'heading' is required and must be a non-empty string",
        ),
        (
            {"operation": "replace_section", "heading": "A", "content": 3},
            "replace_section: 'content' is required and must be a string",
        ),
        (
            {"operation": "find_replace", "find": "", "replace": "x"},
            "find_replace: 'find' is required and must be a non-empty string",
        ),
    ],
)
def test_missing_or_empty_fields_are_named(operation: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid) as refused:
        edit("# A\n\ntext\n", **operation)
    assert refused.value.message == message


def test_an_edit_must_be_an_object() -> None:
    for bad in (["append"], "append", None):
        with pytest.raises(Invalid, match="must be an object with an 'operation' field"):
            operation_of(bad)


def test_a_heading_on_the_last_line_without_a_newline() -> None:
    assert (
        edit("# A\n## B", operation="replace_section", heading="B", content="x") == "# A\n## B\nx\n"
    )


def test_the_last_section_gets_no_blank_line_after_it() -> None:
    page = "## A\n\none\n\n## B\n\ntwo\n"
    assert edit(page, operation="replace_section", heading="B", content="new") == (
        "## A\n\none\n\n## B\nnew\n"
    )
    assert edit(page, operation="replace_section", heading="A", content="new") == (
        "## A\nnew\n\n## B\n\ntwo\n"
    )


def test_a_missing_heading_lists_the_first_twenty() -> None:
    page = "".join(f"## H{i}\n\n" for i in range(25))
    with pytest.raises(Invalid) as refused:
        edit(page, operation="replace_section", heading="Nope", content="x")
    listed = refused.value.message.split("(headings: ")[1].rstrip(")").split(", ")
    assert listed == [f"## H{i}" for i in range(20)]


def test_frontmatter_that_is_not_yaml_is_refused_not_doubled() -> None:
    with pytest.raises(Invalid, match="frontmatter is not valid YAML"):
        edit("---\n: [broken\n---\nbody\n", operation="set_frontmatter", frontmatter={"a": 1})


def test_removing_the_last_field_removes_the_block_and_unicode_stays_readable() -> None:
    assert edit("---\na: 1\n---\nbody\n", operation="set_frontmatter", frontmatter={"a": None}) == (
        "body\n"
    )
    assert edit("body\n", operation="set_frontmatter", frontmatter={"place": "Zürich"}) == (
        "---\nplace: Zürich\n---\nbody\n"
    )


def test_frontmatter_keeps_what_yaml_read_and_its_comments_are_no_headings() -> None:
    page = "---\ndate: 2024-05-01\n# Status\n---\n# Intro\n\n## Status\n\nold\n"
    assert edit(page, operation="set_frontmatter", frontmatter={"tags": ["x"]}) == (
        "---\ndate: 2024-05-01\ntags:\n- x\n---\n# Intro\n\n## Status\n\nold\n"
    )
    assert edit(page, operation="replace_section", heading="Status", content="done") == (
        "---\ndate: 2024-05-01\n# Status\n---\n# Intro\n\n## Status\ndone\n"
    )


def test_find_replace_may_not_grow_a_page_without_bound() -> None:
    with pytest.raises(Invalid, match="would grow past"):
        edit(
            "a" * 4000, operation="find_replace", find="a", replace="b" * 5000, expected_count=4000
        )
