"""The wiki function's git, as a Lambda layer built from Debian 12's `git` package.

The python3.12 runtime (Amazon Linux 2023, glibc 2.34) has no git. Debian 12's git binary needs
glibc 2.34 at most (checked here: the build fails clearly if a package ever needs more), and two
libraries the runtime may lack (PCRE2, zlib), which go into the layer beside it:

    bin/git                          the binary; every command wikibot and Otterwiki run is built in
    bin/git-upload-pack -> git       what a client's clone or fetch runs on the serving side
    bin/git-receive-pack -> git
    lib/libpcre2-8.so.0, lib/libz.so.1
    share/git-core/templates/        what `git init` copies (lambda_init sets GIT_TEMPLATE_DIR)

Lambda unpacks a layer into /opt and puts /opt/bin on PATH and /opt/lib on LD_LIBRARY_PATH.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

GLIBC_LIMIT = (2, 34)  # Amazon Linux 2023, the python3.12 runtime's OS
# glibc's own libraries: the runtime has them (and must: they come with its loader)
GLIBC = re.compile(r"^(libc|libm|libdl|libpthread|librt|libresolv|ld-linux.*|linux-vdso)\.so")
SERVER_SIDE = ("git-upload-pack", "git-receive-pack", "git-upload-archive")
DEB_ARCH = {"x86_64": "amd64", "arm64": "arm64"}


class LayerError(RuntimeError):
    """The layer cannot be built here; the message says why and what to do."""


@dataclass(frozen=True)
class GitLayer:
    path: str
    git_version: str
    glibc: tuple[int, int]
    libraries: tuple[str, ...]
    size: int  # bytes, unzipped


def glibc_needed(binary: str) -> tuple[int, int]:
    """The newest glibc symbol version an ELF file asks for."""
    out = subprocess.run(["readelf", "-V", binary], capture_output=True, text=True, check=True)
    found = [tuple(map(int, m)) for m in re.findall(r"GLIBC_(\d+)\.(\d+)", out.stdout)]
    return max(found, default=(0, 0))  # type: ignore[return-value]


def libraries_needed(binary: str) -> dict[str, str]:
    """{soname: path on this machine} of the libraries `binary` loads, glibc's left out."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if match and not GLIBC.match(match.group(1)):
            found[match.group(1)] = match.group(2)
    return found


def download_git(folder: str, architecture: str) -> str:
    """Debian's git package (`apt-get download`), for this machine's Debian release."""
    if DEB_ARCH.get(architecture) != DEB_ARCH.get(platform.machine().replace("aarch64", "arm64")):
        raise LayerError(
            f"the git layer for {architecture} must be built on an {architecture} machine "
            "(its libraries are found with ldd)"
        )
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise LayerError("building the git layer needs Debian's apt-get and dpkg-deb")
    done = subprocess.run(
        ["apt-get", "download", f"git:{DEB_ARCH[architecture]}"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    debs = [f for f in os.listdir(folder) if f.endswith(".deb")]
    if done.returncode != 0 or not debs:
        raise LayerError(
            f"apt-get download git failed ({done.stderr.strip()[-300:]}); "
            "run `apt-get update` first"
        )
    return os.path.join(folder, debs[0])


def build_git_layer(
    path: str, architecture: str = "x86_64", log: Callable[[str], None] = print
) -> GitLayer:
    """Build the layer zip at `path` and check it against the runtime's glibc."""
    with tempfile.TemporaryDirectory(prefix="wikibot-git-layer-") as work:
        deb = download_git(work, architecture)
        extracted = os.path.join(work, "deb")
        subprocess.run(["dpkg-deb", "-x", deb, extracted], check=True)
        git = os.path.join(extracted, "usr", "bin", "git")
        layer = os.path.join(work, "layer")
        os.makedirs(os.path.join(layer, "bin"))
        os.makedirs(os.path.join(layer, "lib"))
        shutil.copy2(git, os.path.join(layer, "bin", "git"))
        for name in SERVER_SIDE:
            os.symlink("git", os.path.join(layer, "bin", name))
        shutil.copytree(
            os.path.join(extracted, "usr", "share", "git-core", "templates"),
            os.path.join(layer, "share", "git-core", "templates"),
        )
        libraries = libraries_needed(git)
        for soname, found in libraries.items():
            shutil.copy2(found, os.path.join(layer, "lib", soname))
        needed = max(glibc_needed(f) for f in [git, *libraries.values()])
        if needed > GLIBC_LIMIT:
            raise LayerError(
                f"{os.path.basename(deb)} needs glibc {needed[0]}.{needed[1]}; the python3.12 "
                f"runtime has {GLIBC_LIMIT[0]}.{GLIBC_LIMIT[1]}: build on an older Debian"
            )
        version = subprocess.run(
            [os.path.join(layer, "bin", "git"), "--version"],
            capture_output=True,
            text=True,
            env={**os.environ, "LD_LIBRARY_PATH": os.path.join(layer, "lib")},
            check=True,
        ).stdout.strip()
        size = write_layer_zip(layer, path)
    log(f"git layer: {version}, glibc {needed[0]}.{needed[1]}, {size / 2**20:.1f} MiB unzipped")
    return GitLayer(path, version, needed, tuple(sorted(libraries)), size)


def write_layer_zip(folder: str, path: str) -> int:
    """Zip `folder` keeping symlinks as links (Lambda unpacks them so); returns the unzipped
    size."""
    size = 0
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for top, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(top, name)
                arcname = os.path.relpath(full, folder)
                if os.path.islink(full):
                    info = zipfile.ZipInfo(arcname)
                    info.create_system = 3  # unix: the mode below is meant
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    zf.writestr(info, os.readlink(full))
                    continue
                zf.write(full, arcname)
                size += os.path.getsize(full)
    return size
