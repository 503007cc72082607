"""`wikibot build-lambda`: the two Lambda packages the Pulumi program deploys.

Each package is a zip with `lambda_init.py` and this project's plugin packages at the top, and
the dependencies the function needs, installed by pip from manylinux wheels of the functions'
architecture (x86_64 or arm64) for the Lambda runtime's Python (no native code is compiled here,
and nothing comes from anywhere but the package index; a dependency published only as source,
like feedgen, gets a wheel built here if it is pure Python). What each function needs is read
from pyproject.toml's extras:

- `lambda-wiki.zip`: Otterwiki, the REST API and semantic search on Bedrock (the project's own
  dependencies and the extras `search,bedrock,lambda`, less FAISS and boto3, see below);
- `lambda-mcp.zip`: the separate MCP app over the REST API (extras `mcp,lambda` only: no
  Otterwiki, whose plugins the MCP app does not load).

Left out: FAISS (66 MB of the 150 MB budget; the vector store then ranks with numpy, the same
exact inner product), boto3 unless asked for (the Lambda Python runtimes include it), test
folders, type stubs, console scripts, and Cython (a build tool Otterwiki pins). There is no
package metadata of this project's own, so no `otterwiki` entry points: `lambda_init` imports
every plugin explicitly. The dependencies keep theirs (FastMCP reads its own version at import).

Byte code is compiled for the runtime's Python when an interpreter of that version is found here:
/var/task is read-only, so without it every cold start compiles every module it imports (seconds).
The dependencies then ship as byte code only (sourceless, which also keeps the packages small);
this project's own modules keep their sources, so its tracebacks show the lines.
`--no-bytecode` ships sources only.

The git binary is not built here: it comes from a Lambda layer whose ARN is the stack's
`gitLayerArn` setting (a git built for Debian would not run on Amazon Linux).
"""

from __future__ import annotations

import functools
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from wikibot import routeplan

MB = 1024 * 1024  # as Lambda counts its limits
UNZIPPED_LIMIT = 250 * MB  # the function's code and all its layers, unzipped
DIRECT_UPLOAD_LIMIT = 50 * MB  # a zip uploaded with the function (larger ones go through S3)
# Amazon Linux 2023 (the python3.12 runtime) has glibc 2.34: every manylinux tag up to it fits.
PLATFORMS = ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
STRIP_DIRS = {"__pycache__", "tests", ".pytest_cache", "bin"}
# Otterwiki pins Cython, a build tool nothing imports at run time (lxml falls back without it).
UNUSED = ("Cython", "cython.py", "pyximport", "Cython-*.dist-info")
# The Lambda Python runtimes include the AWS SDK; bundling it costs ~31 MB.
RUNTIME_SDK = ("boto3",)
OWN_PACKAGES = ("otterwiki_api", "otterwiki_mcp", "otterwiki_search")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Function:
    """What one function's package holds: the project's own dependencies or not, these extras,
    less the distributions in `leave_out`."""

    base: bool
    extras: tuple[str, ...]
    leave_out: tuple[str, ...] = ()


FUNCTIONS = {
    "wiki": Function(True, ("search", "bedrock", "lambda"), leave_out=("faiss-cpu",)),
    "mcp": Function(False, ("mcp", "lambda")),
}
MCP_AUTH_MODES = ("local", "authkit", "tokens", "wiki")


def function_for(name: str, mcp_auth: str = "local") -> Function:
    """What `name`'s package holds for the stack's `mcpAuth`: with `wiki` the wiki function is
    the authorization server (otterwiki_mcp in the wiki), so its package needs the MCP
    libraries too (the stack refuses it without them)."""
    if mcp_auth not in MCP_AUTH_MODES:
        raise BuildError(f"unknown MCP sign-in {mcp_auth!r}: one of {', '.join(MCP_AUTH_MODES)}")
    function = FUNCTIONS[name]
    if name == "wiki" and mcp_auth == "wiki":
        return replace(function, extras=(*function.extras, "mcp"))
    return function


class BuildError(Exception):
    """Something the person building must act on; the message says what."""


@dataclass(frozen=True)
class Package:
    name: str
    path: str
    zipped: int
    unzipped: int
    files: int


def project_root() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isfile(os.path.join(root, "pyproject.toml")):
        raise BuildError(f"no pyproject.toml in {root}: run from a checkout of wikibot")
    return root


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement ("faiss-cpu>=1.8" -> "faiss-cpu")."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise BuildError(f"cannot read the requirement {requirement!r} in pyproject.toml")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def requirements(root: str, function: Function, bundle_sdk: bool = False) -> list[str]:
    """The function's requirements, from pyproject.toml: its dependencies when `base`, and each
    extra's (an extra naming this project's other extras is followed)."""
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    own, optional = _name(project["name"]), project.get("optional-dependencies", {})
    leave_out = {_name(n) for n in function.leave_out + (() if bundle_sdk else RUNTIME_SDK)}
    found = list(project.get("dependencies", [])) if function.base else []
    pending, seen = list(function.extras), set()
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        if extra not in optional:
            raise BuildError(f"pyproject.toml has no extra {extra!r}")
        seen.add(extra)
        for requirement in optional[extra]:
            if _name(requirement) != own:
                found.append(requirement)
                continue
            named = re.match(r"[^\[;]*\[([^\]]*)\]", requirement)  # "wikibot[a,b]>=1; ..."
            if named is None:
                raise BuildError(f"extra {extra!r} names {own} without extras: name them")
            pending += [e.strip() for e in named.group(1).split(",") if e.strip()]
    return [r for r in dict.fromkeys(found) if _name(r) not in leave_out]


ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda's name: the wheels' name


def pip_command(
    target: str,
    requirements: list[str],
    python_version: str,
    wheels: str | None = None,
    architecture: str = "x86_64",
) -> list[str]:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile"]
    for platform in PLATFORMS:
        command += ["--platform", f"{platform}_{ARCHITECTURES[architecture]}"]
    if wheels:
        command += ["--find-links", wheels]
    return command + [
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--target",
        target,
        *requirements,
    ]


_MISSING = re.compile(r"No matching distribution found for (\S+)")


def pure_wheel(requirement: str, wheels: str, architecture: str) -> None:
    """Build a wheel for a dependency published only as source; refuse compiled code, which
    would be built for this machine instead of Lambda."""
    before = set(os.listdir(wheels))
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels]
    result = subprocess.run([*command, requirement], capture_output=True, text=True)
    built = sorted(set(os.listdir(wheels)) - before)
    if result.returncode != 0 or not built:
        raise BuildError(f"could not build a wheel for {requirement}:\n{result.stderr[-2000:]}")
    if not all(name.endswith("-none-any.whl") for name in built):
        raise BuildError(
            f"{requirement} has no manylinux {architecture} wheel for the Lambda runtime and "
            "contains compiled code; pin a version that publishes such wheels"
        )


def install(
    target: str,
    requirements: list[str],
    python_version: str,
    log: Callable[[str], None],
    architecture: str = "x86_64",
) -> None:
    """pip install from wheels only; a dependency published only as source (feedgen) gets a
    wheel built here first, if it is pure Python."""
    with tempfile.TemporaryDirectory(prefix="wikibot-wheels-") as wheels:
        tried: set[str] = set()
        while True:
            command = pip_command(target, requirements, python_version, wheels, architecture)
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode == 0:
                return
            missing = _MISSING.search(result.stderr)
            if missing and missing.group(1) not in tried:
                tried.add(missing.group(1))
                log(f"  {missing.group(1)} has no wheel: building a pure-Python wheel")
                pure_wheel(missing.group(1), wheels, architecture)
                continue
            errors = [line for line in result.stderr.splitlines() if "ignored:" not in line]
            raise BuildError(
                f"pip could not install {' '.join(requirements)} for Python {python_version} on "
                f"manylinux {architecture} (a dependency without such a wheel?):\n"
                + "\n".join(errors[-15:])
            )


def strip(folder: str, drop: Iterable[str] = UNUSED) -> None:
    """Leave out what Lambda never uses: byte code of the build machine, tests, type stubs,
    scripts, and the top-level names matching the patterns in `drop`."""
    for path in (p for pattern in drop for p in glob.glob(os.path.join(folder, pattern))):
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    for current, dirs, files in os.walk(folder, topdown=True):
        for name in list(dirs):
            if name in STRIP_DIRS:
                shutil.rmtree(os.path.join(current, name))
                dirs.remove(name)
        for name in files:
            if name.endswith((".pyc", ".pyo", ".pyi")):
                os.remove(os.path.join(current, name))


def _files(folder: str) -> Iterable[tuple[str, str]]:
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(current, name)
            yield full, os.path.relpath(full, folder)


def write_zip(folder: str, path: str) -> tuple[int, int]:
    """A reproducible zip of `folder` (sorted, fixed timestamps); returns (files, bytes)."""
    count = size = 0
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for full, name in _files(folder):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            mode = 0o755 if os.access(full, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(full, "rb") as f:
                data = f.read()
            archive.writestr(info, data)
            count += 1
            size += len(data)
    os.replace(tmp, path)
    return count, size


@functools.cache  # each probe starts interpreters (~0.25 s)
def find_python(version: str) -> str | None:
    """An interpreter of the runtime's version here (WIKIBOT_LAMBDA_PYTHON, else pythonX.Y on
    PATH or in pyenv's versions), to compile byte code with, or None."""
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    installed = sorted(glob.glob(os.path.join(pyenv, "versions", f"{version}.*", "bin")))
    candidates = [os.environ.get("WIKIBOT_LAMBDA_PYTHON"), f"python{version}"]
    candidates += [os.path.join(folder, f"python{version}") for folder in reversed(installed)]
    for candidate in candidates:
        path = candidate and shutil.which(candidate)
        if not path:
            continue
        probe = "import sys; print('%d.%d' % sys.version_info[:2])"
        result = subprocess.run([path, "-c", probe], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip() == version:
            return path
    return None


def compile_bytecode(folder: str, python: str) -> None:
    """Byte code for every module: /var/task is read-only, so without it each cold start compiles
    every module it imports (seconds). The dependencies keep only their byte code, beside where
    the source was; this project's own modules keep their sources, with byte code Python uses
    without checking it against them (the zip's timestamps are not the sources', and a Lambda
    package never changes)."""
    own = {*OWN_PACKAGES, "lambda_init.py"}
    entries = sorted(os.listdir(folder))
    compileall = [python, "-m", "compileall", "-q", "-j", "0"]
    hashed = [*compileall, "--invalidation-mode", "unchecked-hash"]
    compiled = subprocess.run(
        [*hashed, *(os.path.join(folder, n) for n in entries if n in own)],
        capture_output=True,
        text=True,
    )
    if compiled.returncode != 0:
        raise BuildError(f"{python} could not compile this project's modules:\n{compiled.stdout}")
    legacy = [*compileall, "-b", *(os.path.join(folder, n) for n in entries if n not in own)]
    subprocess.run(legacy, capture_output=True)  # a stray Python 2 file just keeps its source
    for current, _dirs, files in os.walk(folder):
        top = os.path.relpath(current, folder).split(os.sep)[0]
        for name in files:
            source = os.path.join(current, name)
            mine = top in own or (top == "." and name in own)
            if not mine and name.endswith(".py") and os.path.isfile(source + "c"):
                os.remove(source)


def copy_own(root: str, dest: str) -> None:
    """lambda_init.py and the plugin packages, without the byte code of this machine."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "pyproject.toml", "build", "*.egg-info")
    for name in OWN_PACKAGES:
        shutil.copytree(os.path.join(root, "plugins", name), os.path.join(dest, name), ignore=skip)
    shutil.copy2(os.path.join(root, "lambda_init.py"), dest)


TARGET_FILE = "wikibot-package.json"


def record_target(
    folder: str, python_version: str, architecture: str, routes: dict[str, str] | None = None
) -> None:
    """What the package was built for, read back by the stack, which refuses a package built
    for another runtime or architecture than it deploys (byte code is per Python version), and,
    for the MCP package, the code its routes come from (`routeplan.route_code`)."""
    target: dict[str, object] = {"runtime": f"python{python_version}", "architecture": architecture}
    if routes is not None:
        target["routes"] = routes
    with open(os.path.join(folder, TARGET_FILE), "w", encoding="utf-8") as f:
        json.dump(target, f)


def build_one(
    name: str,
    output_dir: str,
    python_version: str = "3.12",
    log: Callable[[str], None] = print,
    root: str | None = None,
    bundle_sdk: bool = False,
    bytecode: bool = True,
    architecture: str = "x86_64",
    mcp_auth: str = "local",
) -> Package:
    if architecture not in ARCHITECTURES:
        raise BuildError(f"unknown architecture {architecture!r}: x86_64 or arm64")
    root = root or project_root()
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, f"lambda-{name}.zip")
    function = function_for(name, mcp_auth)
    needed = requirements(root, function, bundle_sdk)
    if "mcp" in function.extras:  # the versions the stack plans the routes with: those here
        from otterwiki_mcp.paths import ABSENT, installed_versions

        needed += [f"{n}=={v}" for n, v in installed_versions().items() if v != ABSENT]
    with tempfile.TemporaryDirectory(prefix=f"wikibot-lambda-{name}-") as staging:
        log(
            f"[{name}] pip: {len(needed)} requirements, Python {python_version}, "
            f"manylinux {architecture}"
        )
        install(staging, needed, python_version, log, architecture)
        log(f"[{name}] stripping byte code, tests, type stubs and scripts")
        strip(staging)
        copy_own(root, staging)
        python = find_python(python_version) if bytecode else None
        if not bytecode:
            log(f"[{name}] no byte code (--no-bytecode): cold starts compile each module")
        elif python:
            log(f"[{name}] compiling byte code with {python} (dependencies without sources)")
            compile_bytecode(staging, python)
        else:
            log(
                f"[{name}] warning: no python{python_version} here (set WIKIBOT_LAMBDA_PYTHON): "
                "no byte code in the package, so every cold start compiles each module (~3 s)"
            )
        routes = routeplan.route_code(staging) if name == "mcp" else None
        record_target(staging, python_version, architecture, routes)
        log(f"[{name}] writing {path}")
        files, unzipped = write_zip(staging, path)
    return Package(name, path, os.path.getsize(path), unzipped, files)


def check_limits(package: Package, layers_mb: float, allow_s3: bool) -> list[str]:
    """Problems that stop the deploy (raises), and warnings (returned)."""
    total = package.unzipped + layers_mb * MB
    if total > UNZIPPED_LIMIT:
        raise BuildError(
            f"{package.name}: {package.unzipped / MB:.1f} MB unzipped"
            f"{f' + {layers_mb:g} MB of layers' if layers_mb else ''} is over Lambda's "
            f"{UNZIPPED_LIMIT // MB} MB limit for a function and its layers"
        )
    if package.zipped > DIRECT_UPLOAD_LIMIT:
        message = (
            f"{package.name}: {package.zipped / MB:.1f} MB zipped is over the "
            f"{DIRECT_UPLOAD_LIMIT // MB} MB limit of a direct upload; it must be deployed "
            "through an S3 bucket"
        )
        if not allow_s3:
            raise BuildError(message + " (pass --allow-s3 if you deploy it that way)")
        return [message]
    return []


def build(
    output_dir: str,
    functions: Iterable[str] = ("wiki", "mcp"),
    python_version: str = "3.12",
    layers_mb: float = 0,
    allow_s3: bool = False,
    log: Callable[[str], None] = print,
    bundle_sdk: bool = False,
    bytecode: bool = True,
    architecture: str = "x86_64",
    mcp_auth: str = "local",
) -> list[Package]:
    """Build the packages (at the same time: mostly waiting for pip), then check each."""
    functions = list(functions)
    with ThreadPoolExecutor(max_workers=len(functions) or 1) as pool:
        futures = [
            pool.submit(
                build_one,
                name,
                output_dir,
                python_version,
                log,
                None,
                bundle_sdk,
                bytecode,
                architecture,
                mcp_auth,
            )
            for name in functions
        ]
        packages = [future.result() for future in futures]
    for package in packages:
        log(
            f"[{package.name}] {package.path}: {package.zipped / MB:.1f} MB zipped, "
            f"{package.unzipped / MB:.1f} MB unzipped, {package.files} files"
        )
        for warning in check_limits(package, layers_mb, allow_s3):
            log(f"[{package.name}] warning: {warning}")
    return packages
