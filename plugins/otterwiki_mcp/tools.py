"""The MCP tools: one implementation over a WikiBackend. Docstrings and argument descriptions are
the model's manual, so they say when to use a tool and what to do with what it returns."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastmcp import FastMCP
from mcp.types import ToolAnnotations
from otterwiki_api.errors import Invalid, WikiError
from otterwiki_api.sections import extract_section, headings
from pydantic import Field

from .backend import WikiBackend
from .described import described
from .errors import wiki_errors
from .identity import current_author

PathArg = Annotated[
    str,
    Field(
        description="The note's path: folders separated by '/', without '.md', e.g. "
        "'Projects/Plan'. Case does not matter."
    ),
]
MessageArg = Annotated[
    str | None,
    Field(description="Optional git commit message; a sensible one is made when omitted."),
]
RevisionArg = Annotated[
    str,
    Field(
        description="The revision read_note returned for this note (at least 7 hex digits). "
        "The write is refused if the note changed since then."
    ),
]

READ = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False)
DESTROY = ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False)
TEXT_TYPES = ("text/", "application/json", "application/xml", "image/svg+xml")


def _progress(source: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """`answer` with the service's `partial` flag and `index_progress`, when `source` has them
    (the page index's first build is not done: the answer lacks pages not indexed yet)."""
    return answer | {k: source[k] for k in ("partial", "index_progress") if k in source}


def _summary(page: dict[str, Any]) -> dict[str, Any]:
    keys = ("path", "name", "category", "tags", "updated_at", "revision")
    return {k: page[k] for k in keys if k in page}


def _window(items: list[Any], limit: int, offset: int) -> tuple[list[Any], dict[str, Any]]:
    """`limit` items from `offset`, and what a caller needs to go on: `truncated` and, if so,
    `next_offset`."""
    shown = items[offset : offset + limit]
    more = offset + len(shown) < len(items)
    return shown, {"truncated": more, **({"next_offset": offset + len(shown)} if more else {})}


OffsetArg = Annotated[
    int, Field(ge=0, description="next_offset of a truncated answer, to read on from there.")
]


def register_tools(mcp: FastMCP, backend: WikiBackend) -> None:
    """Add every wiki tool to `mcp`, each calling `backend` with the caller as git author."""

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def read_note(
        path: PathArg,
        revision: Annotated[
            str | None,
            Field(description="Read the note as it was at this revision (from get_history)."),
        ] = None,
        section: Annotated[
            str | None,
            Field(
                description="Return only the section under this heading (without '#'), up to "
                "the next heading of the same or a higher level.",
            ),
        ] = None,
        max_chars: Annotated[
            int, Field(ge=100, le=200_000, description="Most characters of content to return.")
        ] = 40_000,
        offset: OffsetArg = 0,
    ) -> dict[str, Any]:
        """Read a note: its markdown, front matter, links and current revision.

        Keep the returned `revision`: write_note (replacing) and edit_note need it, so a change
        made by someone else in between is never overwritten. For long notes, pass `section` to
        read one part; `headings` lists the note's headings. Content longer than `max_chars` is
        cut: `truncated` is then true and `next_offset` says where to read on.
        """
        page = backend.get_page(path, revision)
        result = {
            "path": page["path"],
            "name": page["name"],
            "revision": page["revision"],
            "content": page["content"],
            "frontmatter": page.get("frontmatter"),
            "headings": [text for _, _, text in headings(page["content"])],
            "links_to": page.get("links_to", []),
            "linked_from": page.get("linked_from", []),
            "last_commit": page.get("last_commit"),
        }
        if section:
            part = extract_section(page["content"], section)
            if part is None:
                raise Invalid(
                    f"{page['path']} has no section {section!r}; its headings are: "
                    + (", ".join(repr(h) for h in result["headings"]) or "none")
                )
            result["content"] = part
            result["section"] = section
        content = result["content"]
        result["content"] = content[offset : offset + max_chars]
        more = offset + max_chars < len(content)
        result["truncated"] = more
        if more:
            result["next_offset"] = offset + max_chars
        return result

    @described(mcp.tool, annotations=WRITE)
    @wiki_errors
    def write_note(
        path: PathArg,
        content: Annotated[str, Field(description="The note's full markdown.")],
        revision: Annotated[
            str | None,
            Field(
                description="Leave out to create a new note. To replace an existing note, pass "
                "the revision read_note returned."
            ),
        ] = None,
        commit_message: MessageArg = None,
    ) -> dict[str, Any]:
        """Create a note, or replace a whole note's content.

        To change part of an existing note prefer edit_note. Link other notes with
        [[Wiki Links]] (e.g. [[Projects/Plan]] or [[Plan|the plan]]). Returns the new revision.
        Unless the wiki keeps the case of page names, Otterwiki stores paths in lower case and
        shows each part capitalised ('OAuth/Test' is shown as 'Oauth/Test'); the answer's
        `path` is how the wiki shows it, and a `title` in the frontmatter (or the first
        heading) is what people read as the note's name.
        """
        written = backend.put_page(path, content, revision, commit_message, current_author())
        if written.get("path") and written["path"] != path.strip("/"):
            written["naming"] = (
                f"stored as {written['path']!r}: Otterwiki shows page paths capitalised, one "
                "part at a time, unless RETAIN_PAGE_NAME_CASE is set; links and reads work with "
                "either spelling, and a frontmatter `title` sets the name people see"
            )
        return written

    @described(mcp.tool, annotations=WRITE)
    @wiki_errors
    def edit_note(
        path: PathArg,
        old_string: Annotated[
            str,
            Field(
                description="Exact text to replace. It must occur exactly once in the note: "
                "include surrounding words if it is not unique."
            ),
        ],
        new_string: Annotated[str, Field(description="The text to put in its place.")],
        revision: RevisionArg,
        commit_message: MessageArg = None,
    ) -> dict[str, Any]:
        """Replace one exact, unique piece of text in a note (the way to make small changes).

        Read the note first and pass its revision. Returns the new revision, for the next edit.
        """
        return backend.edit_page(
            path, old_string, new_string, revision, commit_message, current_author()
        )

    @described(mcp.tool, annotations=WRITE)
    @wiki_errors
    def update_note(
        path: PathArg,
        operation: Annotated[
            Literal["append", "prepend", "replace_section", "find_replace", "set_frontmatter"],
            Field(
                description="append / prepend: add `content` at the end / at the start (after "
                "the frontmatter); replace_section: replace what is under `heading` (up to the "
                "next heading of the same or a higher level; the heading stays) with "
                "`content`; find_replace: replace `find` with `replace`, refused unless it "
                "occurs exactly `expected_count` times; set_frontmatter: set the fields in "
                "`frontmatter` (null removes one), keeping the others."
            ),
        ],
        content: Annotated[
            str | None, Field(description="append, prepend, replace_section: the text.")
        ] = None,
        heading: Annotated[
            str | None, Field(description="replace_section: the heading's text, e.g. 'Notes'.")
        ] = None,
        find: Annotated[str | None, Field(description="find_replace: exact text.")] = None,
        replace: Annotated[str | None, Field(description="find_replace: new text.")] = None,
        expected_count: Annotated[
            int, Field(ge=1, description="find_replace: how many times `find` occurs.")
        ] = 1,
        frontmatter: Annotated[
            dict[str, Any] | None, Field(description="set_frontmatter: the fields to set.")
        ] = None,
        revision: Annotated[
            str | None,
            Field(
                description="The revision read_note returned: required except for append and "
                "prepend (which cannot overwrite anything); the edit is refused if the note "
                "changed since."
            ),
        ] = None,
        commit_message: MessageArg = None,
    ) -> dict[str, Any]:
        """Change part of a note without sending it whole: add to its end or start (a log,
        a journal: no read needed), replace one section, replace text a known number of times,
        or set frontmatter fields. Returns the new revision."""
        fields = {
            "content": content,
            "heading": heading,
            "find": find,
            "replace": replace,
            "expected_count": expected_count if operation == "find_replace" else None,
            "frontmatter": frontmatter,
        }
        edit = {"operation": operation, **{k: v for k, v in fields.items() if v is not None}}
        return backend.apply_edit(path, edit, revision, commit_message, current_author())

    @described(mcp.tool, annotations=DESTROY)
    @wiki_errors
    def delete_note(path: PathArg, commit_message: MessageArg = None) -> dict[str, Any]:
        """Delete a note and its attachments. Git keeps the history, but the note is gone from
        the wiki; links to it become broken."""
        return backend.delete_page(path, commit_message, current_author())

    @described(mcp.tool, annotations=DESTROY)
    @wiki_errors
    def rename_note(
        path: PathArg,
        new_path: Annotated[str, Field(description="The note's new path, e.g. 'Archive/Plan'.")],
        commit_message: MessageArg = None,
    ) -> dict[str, Any]:
        """Move or rename a note (with its attachments). Every [[link]] to it in other notes is
        rewritten in the same commit; `updated_pages` lists the notes that changed."""
        return backend.rename_page(path, new_path, commit_message, current_author())

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def list_notes(
        prefix: Annotated[
            str | None, Field(description="Only notes whose path starts with this: 'Projects/'.")
        ] = None,
        category: Annotated[
            str | None, Field(description="Only notes whose front matter has this category.")
        ] = None,
        tag: Annotated[str | None, Field(description="Only notes with this tag.")] = None,
        updated_since: Annotated[
            str | None,
            Field(description="Only notes changed since this ISO 8601 date, e.g. '2025-01-31'."),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=1000, description="Notes per page (1-1000).")] = 100,
        cursor: Annotated[
            str | None,
            Field(description="The next_cursor of the previous call, to get the next page."),
        ] = None,
    ) -> dict[str, Any]:
        """List notes in path order, with their category, tags, last change and revision.

        When `next_cursor` is in the answer there are more: call again with cursor=next_cursor.
        `total` counts every matching note. `partial` (with `index_progress`) while the wiki is
        still indexing its notes after a start: some are missing; list again shortly.
        """
        listing = backend.list_pages(
            prefix=prefix,
            category=category,
            tag=tag,
            updated_since=updated_since,
            limit=limit,
            cursor=cursor,
        )
        answer: dict[str, Any] = {
            "notes": [_summary(p) for p in listing["pages"]],
            "total": listing["total"],
            "truncated": bool(listing.get("next_cursor")),
        }
        if listing.get("next_cursor"):
            answer["next_cursor"] = listing["next_cursor"]
        return _progress(listing, answer)

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def search_notes(
        query: Annotated[
            str,
            Field(
                description="Words to find. A note matches when it contains every word; the "
                "last word also matches as a prefix ('deploy' finds 'deployment')."
            ),
        ],
        limit: Annotated[int, Field(ge=1, le=100, description="Most results to return.")] = 20,
    ) -> dict[str, Any]:
        """Full-text search over titles and content, best match first, with a snippet each.

        Use this for names, terms and exact words; use fewer words if nothing is found, and
        semantic_search to find notes by meaning. `truncated` when more notes match than
        `limit` (`total` counts them).
        """
        found = backend.search(query, limit)
        return {**found, "truncated": found.get("total", 0) > len(found.get("results", []))}

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def semantic_search(
        query: Annotated[
            str, Field(description="A question or description of what you are looking for.")
        ],
        limit: Annotated[int, Field(ge=1, le=50, description="Most notes to return.")] = 5,
    ) -> dict[str, Any]:
        """Find notes by meaning (embeddings), even when they use other words than the query.

        Each result has the note's path, a score and its best-matching passages (`chunks`, each
        with its `section_path`, "Note title > Section > Subsection"). If semantic search is
        unavailable, use search_notes.
        """
        return backend.semantic_search(query, limit)

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def get_links(
        path: PathArg,
        limit: Annotated[int, Field(ge=1, le=1000, description="Most links of each kind.")] = 200,
        offset: OffsetArg = 0,
    ) -> dict[str, Any]:
        """The notes this note links to (`links_to`) and the notes linking to it (`linked_from`).
        A linked path with no note behind it is a broken link (write_note can create it).
        `truncated` (and `next_offset`) when either list is longer than `limit`."""
        links = backend.links(path)
        outgoing, more_out = _window(links["links_to"], limit, offset)
        incoming, more_in = _window(links["linked_from"], limit, offset)
        more = more_out["truncated"] or more_in["truncated"]
        return {
            "path": links["path"],
            "links_to": outgoing,
            "linked_from": incoming,
            "total_links_to": len(links["links_to"]),
            "total_linked_from": len(links["linked_from"]),
            "truncated": more,
            **({"next_offset": offset + limit} if more else {}),
        } | _progress(links, {})

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def get_history(
        path: PathArg,
        limit: Annotated[int, Field(ge=1, le=1000, description="Most commits to return.")] = 20,
    ) -> dict[str, Any]:
        """A note's change history, newest first: revision, author, date and message of each
        commit. Pass a revision to read_note to see the note as it was then. `truncated` when
        there are older commits than `limit` shows."""
        found = backend.history(path, min(limit + 1, 1000))  # one more: are there older ones?
        more = len(found["history"]) > limit
        return {**found, "history": found["history"][:limit], "truncated": more}

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def get_recent_changes(
        limit: Annotated[int, Field(ge=1, le=1000, description="Most commits to return.")] = 20,
    ) -> dict[str, Any]:
        """The latest changes across the whole wiki, newest first, with the notes each touched.
        Use it to catch up on what others changed (recent_activity groups a time frame by
        note). `truncated` when there are older changes than `limit` shows."""
        found = backend.changelog(min(limit + 1, 1000))
        entries = found["entries"]
        return {
            "entries": entries[:limit],
            "total": len(entries[:limit]),
            "truncated": len(entries) > limit,
        }

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def build_context(
        path: PathArg,
        depth: Annotated[
            int, Field(ge=1, le=3, description="How many links away to go (1-3).")
        ] = 1,
        since: Annotated[
            str | None,
            Field(description="Only notes changed since: '1d', '12h', '2 weeks', a date."),
        ] = None,
        max_chars: Annotated[
            int, Field(ge=500, le=200_000, description="Size budget of the answer.")
        ] = 12_000,
        offset: Annotated[
            int, Field(ge=0, le=200, description="next_offset of a truncated answer.")
        ] = 0,
    ) -> dict[str, Any]:
        """A note (with its content) and the notes it links to and that link to it, each with
        title, frontmatter, a summary and how it is connected: a note's neighbourhood in one
        call. If `truncated`, call again with `offset` = `next_offset` for the rest."""
        return backend.context(path, depth, since, max_chars, offset)

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def recent_activity(
        since: Annotated[
            str, Field(description="Time frame: '1d', '12h', '1 week', 'yesterday' or a date.")
        ] = "1d",
        limit: Annotated[int, Field(ge=1, le=1000, description="Most notes to return.")] = 50,
    ) -> dict[str, Any]:
        """What changed in a time frame, grouped by note, most recent first: a line per note
        saying how many commits, by whom, lines added and removed, and the latest message.
        `truncated` if there is more."""
        found = backend.activity(since, limit)
        keep = ("path", "last_changed", "summary")
        return {**found, "pages": [{k: p[k] for k in keep} for p in found["pages"]]}

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def read_notes(
        paths: Annotated[
            list[str],
            Field(min_length=1, max_length=20, description="Up to 20 note paths."),
        ],
        max_chars: Annotated[
            int, Field(ge=100, le=200_000, description="Most characters of each note.")
        ] = 20_000,
    ) -> dict[str, Any]:
        """Several notes at once (content, revision, links). A missing note gets an `error`
        entry instead of failing the call; a note longer than `max_chars` is cut and marked
        `truncated` (read_note with `section` reads the rest)."""
        notes = []
        for path in paths:
            try:
                page = backend.get_page(path)
            except WikiError as e:
                notes.append({"path": path, "error": e.message})
                continue
            content = page["content"]
            page["truncated"] = len(content) > max_chars
            page["content"] = content[:max_chars]
            notes.append(page)
        return {"notes": notes}

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def list_folders(
        prefix: Annotated[str | None, Field(description="Only folders under this path.")] = None,
        limit: Annotated[int, Field(ge=1, le=1000, description="Most folders to return.")] = 200,
    ) -> dict[str, Any]:
        """The wiki's folders with the number of notes directly in each and below it: where
        things are, and where a new note belongs."""
        return backend.folders(prefix, limit)

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def find_orphaned_notes(
        limit: Annotated[int, Field(ge=1, le=1000, description="Most notes to return.")] = 100,
        offset: OffsetArg = 0,
    ) -> dict[str, Any]:
        """Notes that no other note links to (the front page, Home, is never counted). Good
        candidates to link from a related note, or to clean up. `total` counts them all;
        `truncated` and `next_offset` when there are more than `limit`."""
        pages = backend.list_pages()["pages"]
        edges = backend.link_graph()["edges"]
        linked = {e["target"].casefold() for e in edges if e["source"] != e["target"]}
        orphans = [
            _summary(p)
            for p in pages
            if p["path"].casefold() not in linked and p["path"].casefold() != "home"
        ]
        shown, more = _window(orphans, limit, offset)
        return {"orphans": shown, "total": len(orphans), **more}

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def list_attachments(path: PathArg) -> dict[str, Any]:
        """Files attached to a note: name, size, type and last change of each."""
        return backend.list_attachments(path)

    @described(mcp.tool, annotations=WRITE)
    @wiki_errors
    def upload_attachment(
        path: PathArg,
        filename: Annotated[
            str, Field(description="The file's name, e.g. 'diagram.png' (no folders).")
        ],
        content: Annotated[str, Field(description="The file's content, as `encoding` says.")],
        encoding: Annotated[
            Literal["base64", "text"],
            Field(description="'base64' for any file, 'text' to send UTF-8 text as is."),
        ] = "base64",
        commit_message: MessageArg = None,
    ) -> dict[str, Any]:
        """Attach a file to a note (replacing a file of the same name). Embed it in the note
        with ![](filename) for images or [name](filename) for other files."""
        if encoding == "text":
            data = base64.b64encode(content.encode("utf-8")).decode("ascii")
        else:
            try:
                base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                raise Invalid("content is not valid base64; or pass encoding='text'") from None
            data = content
        return backend.put_attachment(
            path, filename, data, commit_message, current_author("upload")
        )

    @described(mcp.tool, annotations=READ)
    @wiki_errors
    def download_attachment(
        path: PathArg, filename: Annotated[str, Field(description="The attachment's name.")]
    ) -> dict[str, Any]:
        """Fetch an attached file: `content_base64` always, and `text` too when it is text."""
        found = backend.get_attachment(path, filename)
        answer = {
            "filename": found["filename"],
            "size": found["size"],
            "mime_type": found["mime_type"],
            "content_base64": found["content"],
        }
        if str(found["mime_type"]).startswith(TEXT_TYPES):
            try:
                answer["text"] = base64.b64decode(found["content"]).decode("utf-8")
            except UnicodeDecodeError:
                pass
        return answer

    @described(mcp.tool, annotations=DESTROY)
    @wiki_errors
    def delete_attachment(
        path: PathArg,
        filename: Annotated[str, Field(description="The attachment's name.")],
        commit_message: MessageArg = None,
    ) -> dict[str, Any]:
        """Remove a file attached to a note. Links to it in the note stop working, so edit the
        note too if it shows or links the file."""
        return backend.delete_attachment(path, filename, commit_message, current_author("upload"))
