"""One writer of the storm test (tests/test_storm.py), run as its own process.

    python storm_client.py KIND ID URLS REPO KEY SECONDS LOG

KIND is `api` (PUT, PATCH, rename, delete, attachments and a contended shared page through the
REST API), `web` (saves through Otterwiki's editor form with its CSRF token) or `git` (external
commits with plain git, some naming their files, some `git commit -a`). Every operation gets a
unique commit message and is logged as one JSON line: the message, the author, the answer, and
the files it meant to commit ({path: content, or null for a removal}).
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import subprocess
import sys
import time

import requests


class Writer:
    def __init__(self, kind: str, ident: str, urls: list[str], repo: str, key: str, log: str):
        self.kind, self.ident, self.urls, self.repo, self.key = kind, ident, urls, repo, key
        self.log = open(log, "a", encoding="utf-8")
        self.rng = random.Random(ident)
        self.n = 0
        # the web writer is not signed in: Otterwiki commits as "Anonymous"
        self.author = "Anonymous" if kind == "web" else f"Storm {ident}"
        self.pages: dict[str, str] = {}  # this writer's own pages: path -> content
        self.attachments: dict[str, dict[str, str]] = {}  # page -> {file name: content}

    def url(self) -> str:
        return self.rng.choice(self.urls)

    def record(self, message: str, ok: bool, status: object, files: dict, why: str = "") -> None:
        entry = {"message": message, "ok": ok, "status": status, "files": files}
        entry["why"] = "" if ok else why
        entry["author"] = self.author
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()

    def next_message(self) -> tuple[str, str]:
        self.n += 1
        token = f"{self.ident}-op{self.n}-{self.rng.randrange(10**9)}"
        return f"storm {token}", token

    # -- the REST API ------------------------------------------------------------------------
    def api(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        return requests.request(
            method,
            f"{self.url()}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=120,
        )

    def api_step(self) -> None:
        message, token = self.next_message()
        who = {"name": self.author, "email": f"{self.ident}@storm.test"}
        common = {"commit_message": message, "author": who}
        own = sorted(self.pages)
        choice = self.rng.random()
        if not own or choice < 0.3:
            page = f"storm/{self.ident}-p{self.n}"
            content = f"created {token}"
            r = self.api("PUT", f"/pages/{page}", {"content": content, **common})
            if r.status_code == 201:
                self.pages[page] = content
            self.record(
                message, r.status_code == 201, r.status_code, {_file(page): content}, r.text[:300]
            )
        elif choice < 0.5:
            page = self.rng.choice(own)
            rev = self.api("GET", f"/pages/{page}").json()["revision"]
            content = f"replaced {token}"
            body = {"content": content, "revision": rev, **common}
            r = self.api("PUT", f"/pages/{page}", body)
            if r.ok:
                self.pages[page] = content
            self.record(message, r.ok, r.status_code, {_file(page): content}, r.text[:300])
        elif choice < 0.65:
            page = self.rng.choice(own)
            rev = self.api("GET", f"/pages/{page}").json()["revision"]
            old = self.pages[page]
            new = f"patched {token}"
            body = {"old_string": old, "new_string": new, "revision": rev, **common}
            r = self.api("PATCH", f"/pages/{page}", body)
            if r.ok:
                self.pages[page] = new
            self.record(message, r.ok, r.status_code, {_file(page): new}, r.text[:300])
        elif choice < 0.75:
            page = self.rng.choice(own)
            target = f"storm/{self.ident}-r{self.n}"
            r = self.api("POST", f"/pages/{page}/rename", {"new_path": target, **common})
            files = {_file(page): None, _file(target): self.pages[page]}
            for name, data in self.attachments.get(page, {}).items():
                files[f"{_file(page)[:-3]}/{name}"] = None
                files[f"{_file(target)[:-3]}/{name}"] = data
            if r.ok:
                self.pages[target] = self.pages.pop(page)
                self.attachments[target] = self.attachments.pop(page, {})
            self.record(message, r.ok, r.status_code, files, r.text[:300])
        elif choice < 0.82:
            page = self.rng.choice(own)
            r = self.api("DELETE", f"/pages/{page}", common)
            files = {_file(page): None}
            for name in self.attachments.get(page, {}):
                files[f"{_file(page)[:-3]}/{name}"] = None
            if r.ok:
                del self.pages[page]
                self.attachments.pop(page, None)
            self.record(message, r.ok, r.status_code, files, r.text[:300])
        elif choice < 0.92:
            page = self.rng.choice(own)
            name = f"a{self.n}.txt"
            data = f"attachment {token}"
            body = {"filename": name, "content": base64.b64encode(data.encode()).decode()}
            r = self.api("POST", f"/pages/{page}/attachments", {**body, **common})
            if r.ok:
                self.attachments.setdefault(page, {})[name] = data
            self.record(
                message, r.ok, r.status_code, {f"{_file(page)[:-3]}/{name}": data}, r.text[:300]
            )
        else:
            got = self.api("GET", "/pages/storm/shared")
            rev = got.json().get("revision") if got.ok else None
            content = f"shared {token}"
            body = {"content": content, **common, **({"revision": rev} if rev else {})}
            r = self.api("PUT", "/pages/storm/shared", body)
            self.record(message, r.ok, r.status_code, {"storm/shared.md": content}, r.text[:300])

    # -- the web UI --------------------------------------------------------------------------
    def web_step(self) -> None:
        message, token = self.next_message()
        page = f"storm/{self.ident}-w{self.rng.randrange(4)}"
        session = requests.Session()
        url = self.url()
        form = session.get(f"{url}/{page}/edit", timeout=120).text
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', form
        )
        content = f"web {token}"
        data = {"content": content, "commit": message, "csrf_token": csrf.group(1) if csrf else ""}
        r = session.post(f"{url}/{page}/save", data=data, allow_redirects=False, timeout=120)
        ok = r.status_code in (302, 303)
        self.record(message, ok, r.status_code, {_file(page): content}, "" if ok else r.text[:300])

    # -- external git ------------------------------------------------------------------------
    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": self.author,
            "GIT_AUTHOR_EMAIL": f"{self.ident}@storm.test",
            "GIT_COMMITTER_NAME": self.author,
            "GIT_COMMITTER_EMAIL": f"{self.ident}@storm.test",
        }
        return subprocess.run(
            ["git", *args], cwd=self.repo, capture_output=True, text=True, env=env
        )

    def git_step(self) -> None:
        message, token = self.next_message()
        k = self.rng.randrange(4)
        name = f"storm/{self.ident}-g{k}.md"
        content = f"git {token}"
        path = os.path.join(self.repo, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        tracked = self.git("ls-files", "--error-unmatch", "--", name).returncode == 0
        all_mode = tracked and self.rng.random() < 0.5
        # another git command (or a wikibot write) may hold index.lock: retry, never give up
        # with the file half-committed, or the next `commit -a` would carry it
        give_up = time.monotonic() + 90
        while time.monotonic() < give_up:
            if all_mode:
                done = self.git("commit", "-q", "-a", "-m", message)
            else:
                added = self.git("add", "--", name)
                done = (
                    added
                    if added.returncode
                    else self.git("commit", "-q", "-m", message, "--", name)
                )
            if done.returncode == 0:
                self.record(message, True, 0, {name: content})
                return
            if "nothing to commit" in done.stdout:
                # git's racy-clean window, not wikibot's: a `git status` that compared the file
                # just before it was rewritten (same second, same size) wrote the index after
                # the second turned, so the entry's stat now passes as clean. Untracking it
                # makes the next `git add` read the content. (Were the file really back at
                # HEAD's content, this commits nothing either, and the client still fails.)
                self.git("rm", "-q", "--cached", "--", name)
                all_mode = False
            time.sleep(self.rng.uniform(0.005, 0.03))
        raise SystemExit(f"git kept failing: {done.stdout} {done.stderr}")


def _file(page: str) -> str:
    return page.lower() + ".md"


def main() -> None:
    kind, ident, urls, repo, key, seconds, log = sys.argv[1:8]
    writer = Writer(kind, ident, urls.split(","), repo, key, log)
    step = {"api": writer.api_step, "web": writer.web_step, "git": writer.git_step}[kind]
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        step()


if __name__ == "__main__":
    main()
