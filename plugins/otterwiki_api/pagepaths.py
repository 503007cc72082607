"""Page path rules, identical to Otterwiki's own (`otterwiki.helper.get_filename`/`get_pagename`).

Kept free of Flask so the service layer works without a request; `tests/test_pagepaths.py`
checks each rule at its limits.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

from otterwiki.util import clean_slashes, sanitize_filename, sanitize_pagename, split_path, titleSs

from .errors import Invalid

MAX_PATH_CHARS = 512
MAX_SEGMENT_BYTES = 200  # leaves room for ".md" under the usual 255-byte file name limit
# a `.git` file would make the folder a nested repository (git refuses `.GIT` and `git~1` too),
# `.gitignore` could hide the page's later files from every commit
_GIT_NAMES = {".git", "git~1", ".gitignore", ".gitattributes", ".gitmodules"}


def _reject_control(value: str, what: str) -> None:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise Invalid(f"{what} must not contain NUL or control characters")


# the REST API's sub-resources of a page: a page named like one could not be read back
_SUB_RESOURCES = ("history", "rename", "attachments")


def refuse_shadowed(canonical: str) -> None:
    """A page a write creates must be readable at `/api/v1/pages/<path>`: its path may not end
    in a sub-resource's name, nor be `<page>/attachments/<name>`."""
    parts = [p.lower() for p in canonical.split("/")]
    if len(parts) > 1 and (parts[-1] in _SUB_RESOURCES or parts[-2] == "attachments"):
        route = "attachments/<name>" if parts[-2] == "attachments" else parts[-1]
        raise Invalid(
            f"page path {canonical!r} collides with the REST API's /pages/<page>/{route} "
            "route; choose another name"
        )


def validate_page_path(path: object) -> str:
    """Return the page path in Otterwiki's canonical form, or raise Invalid explaining why not.

    Otterwiki silently drops characters such as `.` `?` `#` `!` `$` `|` `\\` from page names;
    the API refuses them instead, so a client never writes a page it cannot read back.
    """
    if not isinstance(path, str):
        raise Invalid("page path must be a string")
    _reject_control(path, "page path")
    if "\ufffd" in path:
        raise Invalid(
            "page path is not valid UTF-8 (it contains U+FFFD, the replacement character)"
        )
    value = unicodedata.normalize("NFKC", path).strip()
    if not value:
        raise Invalid("page path must not be empty")
    if len(value) > MAX_PATH_CHARS:
        raise Invalid(f"page path is longer than {MAX_PATH_CHARS} characters")
    if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        raise Invalid("page path must be relative (no leading '/' or drive)")
    segments = value.split("/")
    if any(seg.strip() in (".", "..") for seg in segments):
        raise Invalid("page path must not contain '.' or '..' segments")
    if value.lower().endswith(".md"):
        value = value[:-3]
    canonical = sanitize_pagename(value, handle_md=True)
    if canonical != clean_slashes(value) or not canonical:
        raise Invalid(
            "page path may not contain any of . ? # ! $ | \\ or start with '-'; "
            f"Otterwiki would store it as {canonical!r}"
        )
    for seg in split_path(canonical):
        if len(seg.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise Invalid(f"page path segment is longer than {MAX_SEGMENT_BYTES} bytes")
    return canonical


def filename_for(pagepath: str, retain_case: bool) -> str:
    """The markdown file of a page, relative to the repository root (Otterwiki's `get_filename`)."""
    p = pagepath if retain_case else pagepath.lower()
    p = clean_slashes(p)
    return p if p.endswith(".md") else f"{p}.md"


def attachment_dir(filename: str) -> str:
    """Attachments of `folder/page.md` live in `folder/page/`."""
    return filename[:-3]


def display_path(filename: str, retain_case: bool) -> str:
    """The page name Otterwiki shows for a file (`get_pagename(full=True)`, no header)."""
    filepath = filename.rstrip("/")
    if filepath.endswith(".md"):
        filepath = filepath[:-3]
    parts = split_path(filepath)
    if not retain_case:
        parts = [part if part != part.lower() else titleSs(part) for part in parts]
    return "/".join(parts)


def link_key(target: str, retain_case: bool) -> str | None:
    """The file a wikilink target points at, without `.md` (None for `[[#anchor]]`)."""
    page = unquote(target.strip().lstrip("/").partition("#")[0].strip())
    if not page:
        return None
    return filename_for(page, retain_case)[:-3]


def validate_attachment_name(name: object) -> str:
    """An attachment file name must stay inside its page's folder: one plain path segment."""
    if not isinstance(name, str) or not name.strip():
        raise Invalid("attachment filename must be a non-empty string")
    _reject_control(name, "attachment filename")
    if "\ufffd" in name:
        raise Invalid("attachment filename is not valid UTF-8 (it contains U+FFFD)")
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        raise Invalid("attachment filename must be a plain name without '/', '\\' or '..'")
    clean = sanitize_filename(name)
    if clean != unicodedata.normalize("NFKC", name) or not clean:
        raise Invalid(f"attachment filename is not allowed; a safe form would be {clean!r}")
    if clean.lower().endswith(".md"):
        raise Invalid("attachment filename must not end in .md (that would be a page)")
    if clean.startswith("."):
        raise Invalid("attachment filename must not start with '.' (hidden files are not listed)")
    if clean.lower() in _GIT_NAMES:
        raise Invalid(f"attachment filename {clean!r} would change how git treats the folder")
    if len(clean.encode("utf-8")) > MAX_SEGMENT_BYTES:
        raise Invalid(f"attachment filename is longer than {MAX_SEGMENT_BYTES} bytes")
    return clean
