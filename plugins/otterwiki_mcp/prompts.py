"""MCP prompts: recipes a person picks in the client, built on the tools (they return text for
the model, and read nothing themselves)."""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from pydantic import Field

from .described import described


def register_prompts(mcp: FastMCP) -> None:
    @described(mcp.prompt)
    def summarise_changes(
        since: Annotated[
            str, Field(description="Time frame: '1 week', '1d', 'yesterday' or a date.")
        ] = "1 week",
    ) -> str:
        """Summarise what changed in the wiki in a time frame."""
        return (
            f"Call recent_activity with since={since!r}. Group the changed notes by topic "
            "(their folders help). For the few notes with the most changes, call build_context "
            "or read_notes to see what they now say. Then write a short summary: what is new, "
            "what changed and who worked on it, naming each note by its path. Mention deleted "
            "notes. Do not change the wiki."
        )

    @described(mcp.prompt)
    def file_note(
        content: Annotated[str, Field(description="The note to file, in markdown.")],
        title: Annotated[str | None, Field(description="Its title, if you have one.")] = None,
    ) -> str:
        """File a note where it belongs in the wiki, linked to related notes."""
        named = f" titled {title!r}" if title else ""
        return (
            f"File this note{named} in the wiki. First call list_folders to see how the wiki is "
            "organised, and search_notes / semantic_search with its key terms to find related "
            "notes. Pick the folder where similar notes live and a clear path that does not "
            "exist yet. Add frontmatter the wiki's notes use (look at one related note with "
            "read_note), and [[Wiki Links]] to the two or three most related notes. Create it "
            "with write_note, then add a link back to it from the most related note with "
            "update_note (append). Report the path you chose and why.\n\nThe note:\n\n" + content
        )
