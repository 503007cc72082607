"""The wiki as plain Python: every operation the REST API and the MCP tools offer.

Reads come from the page index (caught up with git first) and the working tree; writes take the
repository lock, check the caller's revision against the committed one, change the working tree
and commit through the git binary, then tell listeners (Otterwiki's plugin hooks) what changed.
"""

from __future__ import annotations

import base64
import binascii
import errno
import mimetypes
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from . import deadline, overview
from .authors import Author
from .commits import Change, CommitPath, HeadMoved
from .edits import NEEDS_NO_REVISION, operation_of
from .errors import Busy, Conflict, Invalid, NotFound, Starting, StorageFull, too_large
from .frontmatter import split_frontmatter
from .gitcli import Git, GitFailed, check_revision
from .gitobjects import FILE_MODE, LINK_MODE, Entry
from .index_settings import BuildSettings
from .labels import tag as _tag
from .page_index import LinkRules, PageIndex, PageRow, Progress
from .pagepaths import (
    attachment_dir,
    display_path,
    filename_for,
    refuse_shadowed,
    validate_attachment_name,
    validate_page_path,
)
from .repolock import FileLock
from .wikilinks import extract_links, rewrite_links

MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1  # SQLite takes 64-bit integers only; larger offsets mean nothing anyway
RETRIES = 5  # times a write is rebuilt when another process committed while it was prepared

# What a write plans at a base commit: the files it changes and its commit message.
Plan = tuple[dict[str, Change], str]


class ChangeListener(Protocol):
    """Told about every commit the service makes (the plugin forwards it to Otterwiki's hooks)."""

    def repository_changed(self, files: list[str]) -> None: ...
    def page_saved(self, pagepath: str, content: str, author: Author, message: str) -> None: ...
    def page_deleted(self, pagepath: str, author: Author, message: str) -> None: ...
    def page_renamed(self, old: str, new: str, author: Author, message: str) -> None: ...


class NoListener:
    def repository_changed(self, files: list[str]) -> None:
        pass

    def page_saved(self, pagepath: str, content: str, author: Author, message: str) -> None:
        pass

    def page_deleted(self, pagepath: str, author: Author, message: str) -> None:
        pass

    def page_renamed(self, old: str, new: str, author: Author, message: str) -> None:
        pass


def with_progress(answer: dict[str, Any], progress: Progress | None) -> dict[str, Any]:
    """An answer gathered from the page index while its first build is incomplete says so:
    `partial: true` and how far the build is (pages not built yet are missing from it)."""
    if progress is not None:
        answer["partial"] = True
        answer["index_progress"] = progress.as_dict()
    return answer


@dataclass(frozen=True)
class PageListing:
    pages: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    progress: Progress | None = None

    def as_dict(self) -> dict[str, Any]:
        """The answer REST and MCP give: `next_cursor` only when there is a next page."""
        answer: dict[str, Any] = {"pages": self.pages, "total": self.total}
        if self.next_cursor:
            answer["next_cursor"] = self.next_cursor
        return with_progress(answer, self.progress)


def _limit(value: int | None, default: int | None) -> int | None:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
        raise Invalid(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return value


def _revision_arg(revision: object, message: str) -> str:
    """The revision a write names: at least 7 hex digits, so it cannot match by accident."""
    if not isinstance(revision, str) or len(revision) < 7:
        raise Invalid(message)
    return check_revision(revision)


def _mime_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _custom_message(message: object) -> str | None:
    """The caller's commit message, checked before anything else so a bad one changes nothing."""
    if message is None or message == "":
        return None
    if not isinstance(message, str):
        raise Invalid("commit_message must be a string")
    # git refuses NUL, and other control characters are no part of a commit message
    if any(ch < " " and ch not in "\t\n\r" for ch in message):
        raise Invalid("commit_message must not contain control characters (but tab and newline)")
    return message


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def encode_cursor(filename: str) -> str:
    return base64.urlsafe_b64encode(filename.encode("utf-8")).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid("cursor is not one this API returned") from None


class WikiService:
    def __init__(
        self,
        repository: str,
        index_dir: str,
        rules: Callable[[], LinkRules],
        *,
        lock: FileLock | None = None,
        listener: ChangeListener | None = None,
        lock_timeout: float = 30.0,
        stale_lock_after: float = 10.0,
        max_body_bytes: int | None = None,
        build: BuildSettings | None = None,
    ) -> None:
        self.root = os.path.realpath(repository)
        self.git = Git(self.root)
        self.commits = CommitPath(self.git, stale_after=stale_lock_after)
        # what REST takes in one body; MCP in the wiki's process has no body of its own
        self.max_body_bytes = max_body_bytes
        self.rules = rules
        self.index = PageIndex(
            self.git, index_dir, rules, lock_timeout=max(lock_timeout, 60.0), build=build
        )
        self.lock = lock or repository_lock(self.root, lock_timeout)
        self.listener: ChangeListener = listener or NoListener()

    # -- helpers -------------------------------------------------------------------------------
    def _filename(self, path: object) -> tuple[str, str]:
        """(canonical page path, file name) for a caller's page path."""
        canonical = validate_page_path(path)
        return canonical, filename_for(canonical, self.rules().retain_case)

    def _abspath(self, relative: str) -> str:
        """Absolute path in the working tree; refuses anything resolving outside it or into .git."""
        candidate = os.path.join(self.root, relative)
        resolved = os.path.realpath(candidate)
        gitdir = os.path.join(self.root, ".git")
        if os.path.commonpath([self.root, resolved]) != self.root or (
            os.path.commonpath([gitdir, resolved]) == gitdir
        ):
            raise Invalid(f"{relative!r} resolves to a location outside the wiki")
        return candidate

    def _existing(self, path: object) -> tuple[str, str, PageRow]:
        canonical, filename = self._filename(path)
        row = self.index.page(filename)
        if row is None:
            raise NotFound(f"page not found: {canonical}")
        return canonical, filename, row

    def _display(self, filename: str) -> str:
        return display_path(filename, self.rules().retain_case)

    def _key_paths(self, keys: list[str]) -> list[str]:
        """Display paths for link keys: the page's own when it exists, else derived from the key."""
        known = self.index.paths_for_keys(keys)
        return [known.get(k) or self._display(k + ".md") for k in keys]

    def _read_current(self, filename: str) -> str:
        """A page's text as the web UI shows it: the working tree, else HEAD."""
        try:
            with open(self._abspath(filename), encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            blob = self.git.show_file("HEAD", filename)
            if blob is None:
                raise NotFound(f"page not found: {filename[:-3]}") from None
            return blob.decode("utf-8", "replace")

    def _write(self, plan: Callable[[str | None], Plan], author: Author) -> str | None:
        """Run one write: under the repository lock, `plan` what to change at the current HEAD
        (checking revisions there) and commit exactly that. If another process commits in
        between, plan again on its commit, this time holding git's `index.lock` from the start,
        so no git command can commit in between again. Returns the new HEAD (None if nothing
        changed)."""
        with self.lock.hold(deadline.wait_limit(self.lock.timeout)):
            for attempt in range(RETRIES):
                deadline.require()  # on Lambda: refused now rather than killed mid-commit
                held = self.commits.acquire() if attempt else None
                try:
                    base = self.index.ensure_current(build=attempt == 0)
                    changes, message = plan(base)
                    made = self.commits.commit(changes, message, author, base, held)
                except HeadMoved:
                    continue
                except (OSError, GitFailed) as e:
                    if _disk_full(e):
                        raise StorageFull(
                            "the disk holding the wiki is full; nothing was written"
                        ) from e
                    raise
                finally:
                    if held is not None:
                        self.commits.release(held)
                if made is None:
                    return None
                known = {p: c.data for p, c in changes.items() if c.data is not None}
                self.index.record(made, base, known)
                self.listener.repository_changed(sorted(changes))
                return made.revision
        raise Busy("other processes kept moving the branch (git update-ref); retry shortly")

    @staticmethod
    def _check_revision(row: PageRow, revision: str | None) -> None:
        """Optimistic lock: the caller must name the revision it last read (checked by
        `_revision_arg`)."""
        if revision is None or revision == "":
            raise Conflict(
                # the older otterwiki-api plugin's clients match these first words
                "Revision required: the page already exists; read it and send its revision "
                "to overwrite it",
                current_revision=row.revision,
            )
        if not row.revision.startswith(revision.lower()):
            raise Conflict(
                f"Revision mismatch: the page changed since revision {revision}; read it again "
                "and retry",
                current_revision=row.revision,
            )

    def _summary(self, row: PageRow) -> dict[str, Any]:
        updated = _iso(row.updated_at)
        return {
            "name": row.name,
            "path": row.path,
            "category": row.category,
            "tags": row.tags,
            "last_updated": updated[:10],
            "updated_at": updated,
            "content_length": row.words,
            "size": row.size,
            "revision": row.revision,
        }

    # -- reading pages -------------------------------------------------------------------------
    def get_page(self, path: object, revision: str | None = None) -> dict[str, Any]:
        canonical, filename = self._filename(path)
        rules = self.rules()
        self.index.ensure_current()  # this request's slice of an incomplete build
        if revision is None:
            row = self.index.page(filename)
            if row is None:
                raise NotFound(f"page not found: {canonical}")
            content = self._read_current(filename)
            last = {
                "revision": row.revision,
                "author": row.author,
                "date": _iso(row.updated_at),
                "message": row.message.strip(),
            }
            name: str | None = row.name
            shown = row.path
        else:
            commit_id = self.git.resolve(revision)
            blob = self.git.show_file(commit_id, filename)
            if blob is None:
                raise NotFound(f"page {canonical} does not exist at revision {revision}")
            content = blob.decode("utf-8", "replace")
            last = self.git.log(rev_range=commit_id, paths=[filename], limit=1, with_changes=False)[
                0
            ].summary()
            shown, name = self._display(filename), None
        frontmatter, _ = split_frontmatter(content)
        if name is None:  # an old revision: its own title, as the index would have had it
            name = str((frontmatter or {}).get("title") or shown.rsplit("/", 1)[-1])
        key = filename[:-3] if rules.retain_case else filename[:-3].lower()
        _, incoming = self.index.links(key)
        outgoing = sorted(extract_links(content, rules.retain_case, rules.wikilink_style))
        answer = {
            "name": name,
            "path": shown,
            "content": content,
            "frontmatter": frontmatter,
            "links_to": self._key_paths(outgoing),
            "linked_from": [self._display(f) for f in incoming],
            "revision": last["revision"],
            "last_commit": last,
        }
        return with_progress(answer, self.index.partial())  # linked_from needs every page

    def list_pages(
        self,
        *,
        prefix: str | None = None,
        category: str | None = None,
        tag: str | None = None,
        updated_since: datetime | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        offset: int | None = None,
    ) -> PageListing:
        """Pages in path order. Without `limit` every matching page is returned.
        `updated_since` may be ISO 8601 text, as callers receive it."""
        limit = _limit(limit, None)
        if offset is not None and (
            isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET
        ):
            raise Invalid(f"offset must be an integer from 0 to {MAX_OFFSET}")
        if cursor is not None and offset:
            raise Invalid("use either cursor or offset, not both")
        retain = self.rules().retain_case
        file_prefix = None
        if prefix:
            file_prefix = prefix.lstrip("/") if retain else prefix.lstrip("/").lower()
        since = None
        if isinstance(updated_since, str) and updated_since:
            try:
                updated_since = datetime.fromisoformat(updated_since)
            except ValueError:
                raise Invalid("updated_since must be an ISO 8601 date or date-time") from None
        if isinstance(updated_since, datetime):
            if updated_since.tzinfo is None:
                updated_since = updated_since.replace(tzinfo=UTC)
            since = int(updated_since.timestamp())
        self.index.ensure_current()  # this request's slice of an incomplete build
        rows, total = self.index.list_pages(
            prefix=file_prefix,
            category=category or None,
            tag=tag or None,
            updated_since=since,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit,
            offset=offset or 0,
        )
        next_cursor = None
        if limit is not None and len(rows) == limit:
            next_cursor = encode_cursor(rows[-1].filename)
        summaries = [self._summary(r) for r in rows]
        return PageListing(summaries, total, next_cursor, self.index.partial())

    def search(
        self, query: object, limit: int | None = None, all_words: bool = False
    ) -> dict[str, Any]:
        """Ranked full-text search; with `all_words` no fallback to pages with any of the words
        (hybrid search wants only confident full-text hits: the fallback's noise would outvote
        the semantic ranking, bench_search.py)."""
        if not isinstance(query, str) or not query.strip():
            raise Invalid("query parameter 'q' is required")
        self.index.ensure_current()  # this request's slice of an incomplete build
        rows, total = self.index.search(
            query.strip(), _limit(limit, 50), any_word_fallback=not all_words
        )
        results = [
            {"name": r.name, "path": r.path, "snippet": snippet, "score": score}
            for r, snippet, score in rows
        ]
        answer = {"query": query.strip(), "results": results, "total": total}
        return with_progress(answer, self.index.partial())

    def links(self, path: object) -> dict[str, Any]:
        canonical, filename = self._filename(path)
        key = filename[:-3]
        self.index.ensure_current()  # this request's slice of an incomplete build
        outgoing, incoming = self.index.links(key)
        answer = {
            "path": self._display(filename),
            "links_to": self._key_paths(outgoing),
            "linked_from": [self._display(f) for f in incoming],
        }
        return with_progress(answer, self.index.partial())

    def link_graph(self) -> dict[str, Any]:
        self.index.ensure_current()  # this request's slice of an incomplete build
        nodes, edges = self.index.graph()
        shown = dict(zip(nodes, self._key_paths(nodes), strict=True))
        answer = {
            "nodes": [shown[n] for n in nodes],
            "edges": [{"source": shown[s], "target": shown[t]} for s, t in edges],
        }
        return with_progress(answer, self.index.partial())

    def history(self, path: object, limit: int | None = None) -> dict[str, Any]:
        canonical, filename, row = self._existing(path)
        limited = _limit(limit, None)
        commits = self.git.log(paths=[filename], limit=limited, with_changes=False, follow=True)
        own = self.git.followed(filename)  # after the log: a commit in between is in both
        commits = [c for c in commits if c.revision in own]  # the tail after a copy goes
        return {"path": row.path, "history": [c.summary() for c in commits]}

    def changelog(self, limit: int | None = None) -> dict[str, Any]:
        commits = self.git.log(limit=_limit(limit, 50))
        entries = []
        for c in commits:
            entry: dict[str, Any] = c.summary()
            entry["pages_affected"] = sorted(
                {self._display(p) for _, p in c.changes if p.endswith(".md")}
            )
            entries.append(entry)
        return {"entries": entries, "total": len(entries)}

    # -- overviews sized for a model (overview.py) ---------------------------------------------
    def context(
        self,
        path: object,
        depth: object = None,
        since: object = None,
        max_chars: object = None,
        offset: object = None,
    ) -> dict[str, Any]:
        self.index.ensure_current()  # this request's slice of an incomplete build
        answer = overview.context(self, path, depth, since, max_chars, offset)
        return with_progress(answer, self.index.partial())

    def activity(self, since: object, limit: object = None) -> dict[str, Any]:
        return overview.activity(self, since, limit)

    def folders(self, prefix: object = None, limit: object = None) -> dict[str, Any]:
        answer = overview.folders(self, prefix, limit)
        return with_progress(answer, self.index.partial())

    # -- writing pages -------------------------------------------------------------------------
    def put_page(
        self,
        path: object,
        content: object,
        author: Author,
        revision: object = None,
        message: object = None,
    ) -> tuple[dict[str, Any], bool]:
        """Create a page, or replace it when `revision` matches the committed one. Returns
        (result, created)."""
        custom = _custom_message(message)
        if not isinstance(content, str):
            raise Invalid("content is required and must be a string")
        canonical, filename = self._filename(path)
        refuse_shadowed(canonical)
        self._abspath(filename)
        if revision is not None and revision != "":
            revision = _revision_arg(
                revision, "revision must be a string of at least 7 hexadecimal digits"
            )
        data = content.encode("utf-8")
        created, text = False, ""

        def plan(base: str | None) -> Plan:
            nonlocal created, text
            row = self.index.page(filename)
            if row is not None:
                self._check_revision(row, revision)
            created = row is None
            text = custom or f"{_tag()} {'Create' if created else 'Update'}: {canonical}"
            return {filename: Change(data)}, text

        self._write(plan, author)
        row = self.index.page(filename)
        assert row is not None
        self.listener.page_saved(canonical, content, author, text)
        return {
            "name": row.name,
            "path": row.path,
            "revision": row.revision,
            "created": created,
        }, created

    def edit_page(
        self,
        path: object,
        old_string: object,
        new_string: object,
        revision: object,
        author: Author,
        message: object = None,
    ) -> dict[str, Any]:
        """Replace the one occurrence of `old_string` with `new_string`."""
        if not isinstance(old_string, str) or old_string == "":
            raise Invalid("old_string is required and must be a non-empty string")
        if not isinstance(new_string, str):
            raise Invalid("new_string is required and must be a string")
        if old_string == new_string:
            raise Invalid("old_string and new_string are identical")

        def replace_once(content: str) -> str:
            count = content.count(old_string)
            if count == 0:
                raise Invalid("old_string was not found in the page")
            if count > 1:
                raise Invalid(
                    f"old_string is ambiguous: it occurs {count} times; include more context"
                )
            return content.replace(old_string, new_string, 1)

        return self._edit(path, replace_once, revision, True, author, message)

    def apply_edit(
        self,
        path: object,
        operation: object,
        revision: object,
        author: Author,
        message: object = None,
    ) -> dict[str, Any]:
        """One edit operation (`edits`: append, prepend, replace_section, find_replace,
        set_frontmatter) on the committed page; append and prepend need no revision."""
        edit, fields = operation_of(operation)
        needed = fields["operation"] not in NEEDS_NO_REVISION
        return self._edit(path, lambda text: edit(text, fields), revision, needed, author, message)

    def _edit(
        self,
        path: object,
        change: Callable[[str], str],
        revision: object,
        revision_needed: bool,
        author: Author,
        message: object,
    ) -> dict[str, Any]:
        """Commit `change` applied to the page's committed text, under the optimistic lock
        (a given revision is always checked)."""
        custom = _custom_message(message)
        if revision_needed or revision not in (None, ""):
            revision = _revision_arg(
                revision, "revision is required: a string of at least 7 hexadecimal digits"
            )
        canonical, filename = self._filename(path)
        updated = ""
        text = custom or f"{_tag()} Edit: {canonical}"

        def plan(base: str | None) -> Plan:
            nonlocal updated
            row = self.index.page(filename)
            if row is None:
                raise NotFound(f"page not found: {canonical}")
            if isinstance(revision, str):
                self._check_revision(row, revision)
            assert base is not None  # the page exists
            blob = self.commits.base.read(base, [], [filename])[2][0]
            updated = change((blob or b"").decode("utf-8", "replace"))
            return {filename: Change(updated.encode("utf-8"))}, text

        head = self._write(plan, author)
        row = self.index.page(filename)
        assert row is not None
        if head is not None:
            self.listener.page_saved(canonical, updated, author, text)
        return {"name": row.name, "path": row.path, "revision": row.revision}

    def delete_page(self, path: object, author: Author, message: object = None) -> dict[str, Any]:
        custom = _custom_message(message)
        canonical, filename = self._filename(path)
        folder = attachment_dir(filename)
        shown = ""
        text = custom or f"{_tag()} Delete: {canonical}"

        def plan(base: str | None) -> Plan:
            nonlocal shown
            row = self.index.page(filename)
            if row is None:
                raise NotFound(f"page not found: {canonical}")
            shown = row.path
            # the page's folder also holds its subpages: only its attachments go with it
            attachments = self._committed_attachments(base, folder)
            return {p: Change() for p in [filename, *attachments]}, text

        self._write(plan, author)
        self.listener.page_deleted(canonical, author, text)
        return {"deleted": True, "path": shown}

    def rename_page(
        self, path: object, new_path: object, author: Author, message: object = None
    ) -> dict[str, Any]:
        """Move a page (and its folder: attachments and subpages) and rewrite every wikilink to
        it, in one commit."""
        custom = _custom_message(message)
        canonical, filename = self._filename(path)
        if new_path is None or (isinstance(new_path, str) and not new_path.strip()):
            raise Invalid("new_path is required")
        new_canonical, new_filename = self._filename(new_path)
        if new_filename == filename:
            raise Invalid("new_path is the same page as the current path")
        refuse_shadowed(new_canonical)
        self._abspath(new_filename)
        rules = self.rules()
        old_dir, new_dir = attachment_dir(filename), attachment_dir(new_filename)
        text = custom or f"{_tag()} Rename: {canonical} -> {new_canonical}"
        new_shown = self._display(new_filename)
        shown = ""
        updated: list[str] = []

        def plan(base: str | None) -> Plan:
            nonlocal shown, updated
            row = self.index.page(filename)
            if row is None:
                raise NotFound(f"page not found: {canonical}")
            shown = row.path
            building = self.index.partial()
            if building is not None:  # the backlinks to rewrite are in pages not built yet
                raise Starting(
                    f"the page index is still being built ({building.indexed} of "
                    f"{building.total} pages); a rename rewrites every link to the page, so it "
                    "waits for the whole index: nothing was changed, retry in a minute",
                    retry_after=30,
                )
            if self.index.page(new_filename) is not None or os.path.lexists(
                self._abspath(new_filename)
            ):
                raise Conflict(f"a page already exists at {new_canonical}")
            assert base is not None
            _, sources = self.index.links(row.key)
            # one read: the folders that move or are in the way, the page's folder (for its
            # mode), the page and its backlinks' texts
            _, trees, (page, *texts) = self.commits.base.read(
                base, [old_dir, new_dir, new_filename.rpartition("/")[0]], [filename, *sources]
            )
            old_tree, new_tree = trees[old_dir], trees[new_dir]
            if old_tree and (new_tree or os.path.lexists(self._abspath(new_dir))):
                raise Conflict(f"the attachment folder {new_dir} already exists")
            changes: dict[str, Change] = {filename: Change()}
            moved = {filename: new_filename}
            for old, (mode, oid) in (
                self.git.tree_entries(base, [old_dir + "/"]) if old_tree else {}
            ).items():
                moved[old] = new_dir + old[len(old_dir) :]
                changes[old] = Change()
                changes[moved[old]] = Change(entry=Entry(mode.encode(), oid))
            folder, _, name = filename.rpartition("/")
            page_mode = (trees[folder] or {}).get(name.encode(), (None,))[0]
            if page_mode in (FILE_MODE, LINK_MODE):
                changes[new_filename] = Change(page, link=page_mode == LINK_MODE)
            else:  # an executable page keeps its mode
                oid = self.commits.objects.object_id(b"blob", page or b"")
                changes[new_filename] = Change(entry=Entry(page_mode or FILE_MODE, oid))
            updated = []
            for source, blob in zip(sources, texts, strict=True):
                if blob is None:
                    continue
                content = blob.decode("utf-8", "replace")
                rewritten = rewrite_links(  # to the display name, as the older plugin does
                    content, row.key, new_shown, rules.retain_case, rules.wikilink_style
                )
                if rewritten != content:
                    target = moved.get(source, source)
                    changes[target] = Change(rewritten.encode("utf-8"))
                    updated.append(target)
            return changes, text

        head = self._write(plan, author)
        self.listener.page_renamed(canonical, new_canonical, author, text)
        return {
            "old_path": shown,
            "new_path": self._display(new_filename),
            "revision": head or "",
            "updated_pages": [self._display(f) for f in updated if f != new_filename],
        }

    # -- attachments ---------------------------------------------------------------------------
    def _attachment_info(self, folder: str, name: str, modified: dict[str, int]) -> dict[str, Any]:
        relative = f"{folder}/{name}"
        stat = os.stat(self._abspath(relative))
        timestamp = modified.get(relative, int(stat.st_mtime))
        return {
            "filename": name,
            "size": stat.st_size,
            "mime_type": _mime_type(name),
            "last_modified": _iso(timestamp),
        }

    def _attachment_names(self, folder: str) -> list[str]:
        """Files directly in a page's folder that are not subpages (nor hidden, nor links)."""
        absolute = self._abspath(folder)
        if not os.path.isdir(absolute):
            return []
        return sorted(
            n
            for n in os.listdir(absolute)
            if os.path.isfile(os.path.join(absolute, n))
            and not os.path.islink(os.path.join(absolute, n))
            and not n.endswith(".md")
            and not n.startswith(".")
        )

    def list_attachments(self, path: object) -> dict[str, Any]:
        canonical, filename, row = self._existing(path)
        folder = attachment_dir(filename)
        names = self._attachment_names(folder)
        modified: dict[str, int] = {}
        if names:
            for commit in self.git.log(paths=[folder + "/"]):
                for _, changed in commit.changes:
                    modified.setdefault(changed, commit.timestamp)
        attachments = [self._attachment_info(folder, n, modified) for n in names]
        return {"attachments": attachments, "total": len(attachments), "path": row.path}

    def get_attachment(self, path: object, name: object) -> dict[str, Any]:
        canonical, filename, row = self._existing(path)
        clean = validate_attachment_name(name)
        relative = f"{attachment_dir(filename)}/{clean}"
        absolute = self._abspath(relative)
        if not os.path.isfile(absolute):
            raise NotFound(f"attachment not found: {canonical}/{clean}")
        with open(absolute, "rb") as f:
            data = f.read()
        return {
            "filename": clean,
            "content": base64.b64encode(data).decode("ascii"),
            "size": len(data),
            "mime_type": _mime_type(clean),
        }

    def _committed_attachments(self, base: str | None, folder: str) -> list[str]:
        """Committed files directly in a page's folder that are not subpages."""
        if base is None:
            return []
        return sorted(
            p
            for p in self.git.tree_entries(base, [folder + "/"])
            if "/" not in p[len(folder) + 1 :] and not p.endswith(".md")
        )

    def put_attachment(
        self,
        path: object,
        name: object,
        content_b64: object,
        author: Author,
        message: object = None,
    ) -> tuple[dict[str, Any], bool]:
        clean = validate_attachment_name(name)
        custom = _custom_message(message)
        if not isinstance(content_b64, str):
            raise Invalid("content is required: the file's bytes in base64")
        if self.max_body_bytes is not None and len(content_b64) > self.max_body_bytes:
            raise too_large(len(content_b64), self.max_body_bytes)
        try:
            data = base64.b64decode(content_b64, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("content is not valid base64") from None
        canonical, filename = self._filename(path)
        relative = f"{attachment_dir(filename)}/{clean}"
        self._abspath(relative)
        created, shown = False, ""

        def plan(base: str | None) -> Plan:
            nonlocal created, shown
            shown = self._existing(path)[2].path
            created = base is None or not self.git.tree_entries(base, [relative])
            verb = "Add" if created else "Update"
            text = custom or f"{_tag()} {verb} attachment: {canonical}/{clean}"
            return {relative: Change(data)}, text

        self._write(plan, author)
        return {
            "filename": clean,
            "path": shown,
            "size": len(data),
            "mime_type": _mime_type(clean),
            "created": created,
        }, created

    def delete_attachment(
        self, path: object, name: object, author: Author, message: object = None
    ) -> dict[str, Any]:
        clean = validate_attachment_name(name)
        custom = _custom_message(message)
        canonical, filename = self._filename(path)
        relative = f"{attachment_dir(filename)}/{clean}"

        def plan(base: str | None) -> Plan:
            self._existing(path)
            if base is None or relative not in self.git.tree_entries(base, [relative]):
                raise NotFound(f"attachment not found: {canonical}/{clean}")
            text = custom or f"{_tag()} Delete attachment: {canonical}/{clean}"
            return {relative: Change()}, text

        self._write(plan, author)
        return {"deleted": True, "filename": clean}


def _disk_full(error: Exception) -> bool:
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return "No space left on device" in getattr(error, "stderr", "")


def repository_lock(repository: str, timeout: float = 30.0) -> FileLock:
    """The one lock every writer of this repository takes, whichever process it runs in."""
    return _LOCKS.setdefault(
        os.path.realpath(repository),
        FileLock(os.path.join(os.path.realpath(repository), ".git", "wikibot-write.lock"), timeout),
    )


_LOCKS: dict[str, FileLock] = {}
