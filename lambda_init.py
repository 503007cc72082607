"""AWS Lambda entry points: `handler` (Otterwiki with the REST API and semantic search, through
apig-wsgi) and `mcp_handler` (the separate MCP app over the REST API, through Mangum).

Everything comes from the environment, with the setting names `wikibot serve` uses
(WIKIBOT_API_KEY, WIKIBOT_MCP_TOKEN, ...) and Otterwiki's own (REPOSITORY, SECRET_KEY,
SQLALCHEMY_DATABASE_URI); see docs/deploy.md for what each function gets. The Lambda package has
no metadata of wikibot's own, so no `otterwiki` entry points: every plugin is imported explicitly.

Each handler builds its app on first use, so one function never pays for the other's imports.
When Lambda names the handler it will call (`_HANDLER`), that app is built during the init phase.
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from typing import Any
from urllib.parse import quote

MOUNT = "/mnt/wiki"
MCP_STATE = f"{MOUNT}/mcp-oauth.sqlite3"
"""WIKIBOT_MCP_AUTH=wiki: the wiki's OAuth state (the signing keys are kept beside it)."""
DEFAULTS = {
    "REPOSITORY": f"{MOUNT}/repository",
    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{MOUNT}/otterwiki.db",
}
SETTINGS = ("REPOSITORY", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "SITE_NAME")
_ROBOT = "Otterwiki Robot <noreply@otterwiki>"

# Who may do what in the web UI (Otterwiki's own settings, read from the environment). A hosted
# wiki is private unless its deployer chooses otherwise; Otterwiki's own defaults ("open":
# anyone reads, writes and uploads, the first account becomes admin) are for a wiki on loopback.
ACCESS_PRESETS: dict[str, dict[str, str]] = {
    "private": {
        "READ_ACCESS": "APPROVED",
        "WRITE_ACCESS": "APPROVED",
        "ATTACHMENT_ACCESS": "APPROVED",
        "AUTO_APPROVAL": "false",
        "EMAIL_NEEDS_CONFIRMATION": "false",  # a Lambda has no mail server: the owner approves
    },
    "public": {
        "READ_ACCESS": "ANONYMOUS",
        "WRITE_ACCESS": "APPROVED",
        "ATTACHMENT_ACCESS": "APPROVED",
        "AUTO_APPROVAL": "false",
        "EMAIL_NEEDS_CONFIRMATION": "false",
    },
    "open": {},
}
NO_OWNER = "owner-not-configured@wikibot.invalid"
# A Lambda invocation carries at most 6 MB: the REST API refuses bodies above this with its own
# clear JSON error; larger ones never reach the function (API Gateway answers 413 itself).
LAMBDA_BODY_LIMIT = 5_500_000
INIT_BUDGET = 8.0  # seconds of Lambda's 10-second init phase the wiki may take to build
ANSWER_LIMIT = 6 * 1024 * 1024 - 64 * 1024  # Lambda's 6 MB, less the answer's other fields

_wiki_handler: Any = None
_mcp_handler: Any = None


def _git_environment() -> None:
    """git on Lambda: no HOME, and files on EFS belong to the access point's user, not to the
    function's, which git calls dubious ownership unless told the directory is safe."""
    home = os.environ.get("HOME")
    if not home or not os.access(home, os.W_OK):
        os.environ["HOME"] = tempfile.gettempdir()
    templates = "/opt/share/git-core/templates"  # the git layer's (wikibot/git_layer.py)
    if os.path.isdir(templates):
        os.environ.setdefault("GIT_TEMPLATE_DIR", templates)
    if "GIT_CONFIG_GLOBAL" not in os.environ:
        os.environ["GIT_CONFIG_GLOBAL"] = _private_temp_file(
            "wikibot-gitconfig-",
            "[safe]\n\tdirectory = *\n"
            "[user]\n\tname = Otterwiki Robot\n\temail = noreply@otterwiki\n"
            "[init]\n\tdefaultBranch = master\n",
        )


def _private_temp_file(prefix: str, content: str) -> str:
    """A new file of this process's own (mode 0600: a settings file holds the secret key; on a
    shared machine another user could have made a file of a fixed name first), removed when the
    process exits."""
    fd, path = tempfile.mkstemp(prefix=prefix)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(content)
    atexit.register(_remove_quietly, path)
    return path


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _has_commits(repository: str) -> bool:
    result = subprocess.run(
        ["git", "-C", repository, "rev-parse", "--verify", "-q", "HEAD"],
        capture_output=True,
    )
    return result.returncode == 0


def _create_git_dir(repository: str) -> None:
    """Give `repository` a complete `.git` in one step. Two `git init`s of one folder at once
    fail ("cannot copy ... File exists" while both copy the templates) and one may see the other's
    half-made `.git`; so each racer inits a private folder inside and renames its `.git` into
    place: one rename wins, the others find a finished repository."""
    gitdir = os.path.join(repository, ".git")
    staging = tempfile.mkdtemp(prefix=".wikibot-init-", dir=repository)
    try:
        result = subprocess.run(["git", "init", "-q", staging], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"git init {staging} failed: {result.stderr.strip()}")
        try:
            os.rename(os.path.join(staging, ".git"), gitdir)
            return
        except OSError:
            if os.path.isfile(os.path.join(gitdir, "HEAD")):
                return  # another instance's rename won
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # a `.git` that is neither missing nor finished (left by something else): let git repair it
    result = subprocess.run(["git", "init", "-q", repository], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"git init {repository} failed: {result.stderr.strip()}")


def init_repository(repository: str) -> None:
    """Create the git repository and its first commit when the folder is new. Safe when several
    cold starts race: the `.git` appears whole in one rename, and the first commit is made under
    the repository's write lock, by whoever finds no commit once holding it."""
    os.makedirs(repository, exist_ok=True)
    if os.path.isdir(os.path.join(repository, ".git")) and _has_commits(repository):
        return
    if not os.path.isfile(os.path.join(repository, ".git", "HEAD")):
        _create_git_dir(repository)
    from otterwiki_api import deadline
    from otterwiki_api.repolock import FileLock

    lock = FileLock(os.path.join(repository, ".git", "wikibot-write.lock"), 60)
    with lock.hold(deadline.wait_limit(lock.timeout, keep=1.0)):
        if _has_commits(repository):
            return
        import otterwiki

        with open(os.path.join(os.path.dirname(otterwiki.__file__), "initial_home.md")) as f:
            content = f.read()
        retain = os.environ.get("RETAIN_PAGE_NAME_CASE", "").lower() in ("true", "yes", "on", "1")
        filename = "Home.md" if retain else "home.md"
        with open(os.path.join(repository, filename), "w", encoding="utf-8") as f:
            f.write(content)
        git = ["git", "-C", repository]
        subprocess.run([*git, "add", "--", filename], check=True, capture_output=True)
        subprocess.run(
            [*git, "commit", "-q", "-m", "Initial commit", "--author", _ROBOT],
            check=True,
            capture_output=True,
        )


def apply_access_preset(environ: dict[str, str] | None = None) -> str:
    """Put the access preset named by WIKIBOT_ACCESS (default "private") into the environment
    Otterwiki reads its settings from; a setting given explicitly wins. Only the owner's e-mail
    (WIKIBOT_OWNER_EMAIL, Otterwiki's ADMIN_USER_EMAIL) can register as admin; without one, in a
    non-open preset, nobody can (instead of the first visitor). Returns the preset's name."""
    env = os.environ if environ is None else environ
    name = (env.get("WIKIBOT_ACCESS") or "private").strip().lower()
    if name not in ACCESS_PRESETS:
        raise RuntimeError(
            f"WIKIBOT_ACCESS must be one of {', '.join(ACCESS_PRESETS)}, not {name!r}"
        )
    for key, value in ACCESS_PRESETS[name].items():
        env.setdefault(key, value)
    owner = env.get("WIKIBOT_OWNER_EMAIL", "").strip()
    if owner:
        env.setdefault("ADMIN_USER_EMAIL", owner)
    elif name != "open":
        env.setdefault("ADMIN_USER_EMAIL", NO_OWNER)
    return name


def write_settings() -> str:
    """Otterwiki's settings file in /tmp, from the environment; returns its path."""
    settings = {key: os.environ.get(key) or DEFAULTS.get(key) for key in SETTINGS}
    settings = {key: value for key, value in settings.items() if value}
    if not settings.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set: the wiki function needs it (Flask sessions)")
    # a new file per process: two local gateways starting at once must not read each other's
    lines = "".join(f"{key} = {value!r}\n" for key, value in settings.items())
    return _private_temp_file("wikibot-otterwiki-", lines)


def create_wiki_app() -> Any:
    """Otterwiki, configured from the environment, with the API and search plugins."""
    os.environ.setdefault("WIKIBOT_MCP_ENABLED", "false")  # the MCP function serves MCP
    os.environ.setdefault("WIKIBOT_API_MAX_BODY_BYTES", str(LAMBDA_BODY_LIMIT))
    _git_environment()
    apply_access_preset()
    path = write_settings()
    os.environ["OTTERWIKI_SETTINGS"] = path
    init_repository(os.environ.get("REPOSITORY") or DEFAULTS["REPOSITORY"])
    uri = os.environ.get("SQLALCHEMY_DATABASE_URI") or DEFAULTS["SQLALCHEMY_DATABASE_URI"]
    database = uri.removeprefix("sqlite:///") if uri.startswith("sqlite:///") else ""
    if database and not os.path.exists(database):  # accounts and password hashes: owner only
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    import otterwiki_api  # noqa: F401  (each plugin registers itself on import)
    import otterwiki_search  # noqa: F401

    off = ("0", "false", "no", "off")
    serves_mcp = os.environ["WIKIBOT_MCP_ENABLED"].strip().lower() not in off
    if os.environ.get("WIKIBOT_MCP_AUTH", "").strip().lower() == "wiki":
        # the wiki is the MCP function's authorization server; its state and keys on EFS
        os.environ.setdefault("WIKIBOT_MCP_STATE_PATH", MCP_STATE)
        serves_mcp = True
    if serves_mcp:
        import otterwiki_mcp  # noqa: F401
    from otterwiki.server import app

    return app


def create_mcp_app() -> Any:
    """The MCP app over the REST API (WIKIBOT_API_URL, WIKIBOT_API_KEY, WIKIBOT_MCP_*)."""
    from otterwiki_mcp.standalone import create_app

    return create_app()


# What compresses well: everything textual the wiki serves, Otterwiki's static files included
COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "application/xml",
    "image/svg+xml",
    "application/manifest+json",
)
VERSIONED_STATIC = re.compile(r"@\d|[.-]\d+\.\d+\.\d+[.-]")  # mermaid@12.2.0, htmx.2.0.8


class FitForLambda:
    """WSGI middleware of the wiki function: a Lambda answer is at most 6 MB, and binary bodies
    travel base64 (4/3 the size), so Otterwiki's own 5.5 MB mermaid script could not be sent.
    Compressible answers are gzipped when the client accepts it (mermaid: 1.5 MB), and the
    static files get cache headers, immutable for those with a version in their name."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        chunks: list[bytes] = []
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = status, list(headers)
            return chunks.append

        result = self.app(environ, capture)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers, body = answer["status"], answer["headers"], b"".join(chunks)
        original = body
        names = {k.lower(): v for k, v in headers}
        path = environ.get("PATH_INFO", "")
        if path.startswith("/static/") and status.startswith("200"):
            age = "31536000, immutable" if VERSIONED_STATIC.search(path) else "86400"
            headers = [(k, v) for k, v in headers if k.lower() != "cache-control"]
            headers.append(("Cache-Control", f"public, max-age={age}"))
        if (
            len(body) >= 1024
            and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
            and "content-encoding" not in names
            and names.get("content-type", "").startswith(COMPRESSIBLE)
            and status.startswith("200")
        ):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers += [
                ("Content-Encoding", "gzip"),
                ("Content-Length", str(len(body))),
                ("Vary", "Accept-Encoding"),
            ]
        if not fits_lambda(body, names.get("content-type", "")):
            status, headers, body = hand_off(environ, status, names, original)
        start_response(status, headers)
        return [body]


def fits_lambda(body: bytes, content_type: str) -> bool:
    """Whether an answer fits Lambda's 6 MB: apig-wsgi sends all but JSON as base64."""
    size = len(body) if content_type.startswith("application/json") else 4 * -(-len(body) // 3)
    return size <= ANSWER_LIMIT


def hand_off(
    environ: dict[str, Any], status: str, names: dict[str, str], body: bytes
) -> tuple[str, list[tuple[str, str]], bytes]:
    """An answer too large for Lambda goes out through S3: stored once under its content's hash
    in WIKIBOT_LARGE_RESPONSE_BUCKET (a repeat costs nothing), the client redirected to a
    presigned URL valid for five minutes, with the content type and file name kept."""
    bucket = os.environ.get("WIKIBOT_LARGE_RESPONSE_BUCKET")
    downloadable = status.startswith("200") and environ.get("REQUEST_METHOD") == "GET"
    if not bucket or not downloadable:  # a redirect is no answer to a POST (git's pack RPC)
        message = (
            f"this answer is {len(body) / 2**20:.1f} MiB, over what Lambda carries (6 MB); "
            "WIKIBOT_LARGE_RESPONSE_BUCKET hands such answers out through S3"
        )
        return "502 Bad Gateway", [("Content-Type", "text/plain; charset=utf-8")], message.encode()
    from botocore.exceptions import ClientError

    client = _s3()
    key = "answers/" + hashlib.sha256(body).hexdigest()
    content_type = names.get("content-type", "application/octet-stream")
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError:
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    name = os.path.basename(environ.get("PATH_INFO", "")) or "download"
    disposition = names.get("content-disposition") or (
        f"inline; filename*=UTF-8''{quote(name, safe='')}"
    )
    params = {
        "Bucket": bucket,
        "Key": key,
        "ResponseContentType": content_type,
        "ResponseContentDisposition": disposition,
    }
    url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    headers = [("Location", url), ("Cache-Control", "no-store"), ("Content-Length", "0")]
    return "302 Found", headers, b""


_s3_client: Any = None


def _s3() -> Any:
    """The S3 client (boto3 reads AWS_ENDPOINT_URL_S3: `wikibot serve` points it at a local
    S3 server)."""
    global _s3_client
    if _s3_client is None:
        import boto3

        _s3_client = boto3.client("s3")
    return _s3_client


def _wiki() -> Any:
    global _wiki_handler
    if _wiki_handler is None:
        from apig_wsgi import make_lambda_handler

        # Payload 2.0 responses are base64 unless JSON: CSS, fonts, images and attachments
        # arrive byte for byte, and text in any encoding survives.
        _wiki_handler = make_lambda_handler(
            FitForLambda(create_wiki_app()),
            binary_support=True,
            non_binary_content_type_prefixes=("application/json",),
        )
    return _wiki_handler


def _defer_model_builds() -> None:
    """Pydantic builds each model's validator when its class is made: the MCP SDK's ~600
    protocol models took about 0.13 s of the MCP function's cold start, of which a request uses
    a few. Pydantic's own `defer_build` option builds a model's validator on its first use
    instead; it is made the default of every model here, through pydantic's config defaults
    (private: a pydantic without them is left as it is). The MCP function's process only: on
    Lambda and under `wikibot serve` each function's instances are processes of their own, each
    serving one invocation at a time (pydantic builds a deferred model under its own lock)."""
    try:
        from pydantic._internal._config import config_defaults
    except ImportError:
        return
    if isinstance(config_defaults, dict):
        config_defaults["defer_build"] = True


def _mcp() -> Any:
    global _mcp_handler
    if _mcp_handler is None:
        _defer_model_builds()
        from mangum import Mangum

        # lifespan="off": Mangum would run the ASGI lifespan around every invocation, stopping
        # the MCP session manager each time. The app starts each server's lifespan itself on
        # its first request, in a task of Mangum's event loop, which lives as long as the
        # instance (Mangum reuses one loop), so warm invocations find it running.
        _mcp_handler = Mangum(create_mcp_app(), lifespan="off")
    return _mcp_handler


def ascii_path(event: dict[str, Any]) -> dict[str, Any]:
    """HTTP APIs hand over `rawPath` URL-decoded, and apig-wsgi unquotes it once more as latin-1
    (right for a percent-encoded path), so a decoded "/Über" would reach Otterwiki mangled.
    Percent-encode (UTF-8) only the non-ASCII characters: an encoded path stays as it is."""
    raw = event.get("rawPath") or ""
    if raw.isascii():
        return event
    quoted = "".join(c if c.isascii() else quote(c, safe="", errors="replace") for c in raw)
    return {**event, "rawPath": quoted}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The wiki function (API Gateway HTTP API, payload format 2.0). Writes see the
    invocation's deadline: they are refused (503) rather than started too late to finish."""
    from otterwiki_api import deadline
    from otterwiki_api.errors import Busy

    left = getattr(context, "get_remaining_time_in_millis", None)
    with deadline.until(left() / 1000) if left else contextlib.nullcontext():
        try:
            wiki = _wiki()
        except Busy as e:  # building the wiki waited too long for the repository's lock
            return {
                "statusCode": 503,
                "headers": {"Content-Type": "application/json", "Retry-After": "5"},
                "body": json.dumps(e.to_dict()),
            }
        return wiki(ascii_path(event), context)


def mcp_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The MCP function (API Gateway HTTP API, payload format 2.0)."""
    return _mcp()(event, context)


def _init_wiki() -> None:
    """Lambda's init phase is capped at 10 s: build the wiki there only if the repository is
    not locked for long (another instance creating it); otherwise the first request does."""
    from otterwiki_api import deadline
    from otterwiki_api.errors import Busy

    try:
        with deadline.until(INIT_BUDGET):
            _wiki()
    except Busy as e:
        print(f"wikibot: the wiki is built on the first request instead of at init: {e}")


# Build the app this instance will serve during Lambda's init phase.
if os.environ.get("_HANDLER") == f"{__name__}.handler":
    _init_wiki()
elif os.environ.get("_HANDLER") == f"{__name__}.mcp_handler":
    _mcp()
