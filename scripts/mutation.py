"""Mutation testing of the security- and integrity-critical code: do the tests notice when it
breaks?

Each mutant is one small change to one line of a listed function (a comparison flipped, `and`
for `or`, a `not` dropped, a constant changed, a `raise` or a call removed, a `return` value
replaced by None). The project is copied to a temporary folder, the mutant written there, and
the module's own tests run against the copy (PYTHONPATH puts the copy ahead of the editable
install); a mutant is killed when they fail. Survivors are printed with file, line and change:
each one is either a missing test or, if no behaviour can tell it apart, an equivalent mutant
listed in `scripts/mutation_equivalent.txt` with the reason.

    .venv/bin/python scripts/mutation.py                 # every target (about 30-60 minutes)
    .venv/bin/python scripts/mutation.py --module auth   # targets whose name contains "auth"
    .venv/bin/python scripts/mutation.py --list          # the targets and their mutant counts
    .venv/bin/python scripts/mutation.py --module "commit path" --only survivors.txt
                                                         # only the mutants listed (a rerun)

It prints the kill rate per module; the exit code is 1 when a survivor is not listed as
equivalent.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EQUIVALENT = os.path.join(ROOT, "scripts", "mutation_equivalent.txt")


@dataclass(frozen=True)
class Target:
    """Functions of one module and the tests that must notice their mutants."""

    name: str
    path: str
    functions: tuple[str, ...]  # qualified names ("Class.method"); empty: every function
    tests: tuple[str, ...]  # test files or node ids: the quick ones that should notice


TARGETS = [
    Target(
        "scopes and keys",
        "plugins/otterwiki_api/auth.py",
        ("ApiKey.allows", "KeyRing.authenticate", "hash_key"),
        ("tests/test_api_errors.py", "tests/test_api_pages.py"),
    ),
    Target(
        "method -> scope",
        "plugins/otterwiki_api/jsonapi.py",
        ("read_or_write", "author_of"),
        ("tests/test_api_errors.py", "tests/test_api_pages.py"),
    ),
    Target(
        "path safety",
        "plugins/otterwiki_api/service.py",
        ("WikiService._abspath", "WikiService._check_revision", "_revision_arg"),
        ("tests/test_api_errors.py", "tests/test_api_pages.py", "tests/test_service_layer.py"),
    ),
    Target(
        "page paths",
        "plugins/otterwiki_api/pagepaths.py",
        ("validate_page_path", "validate_attachment_name", "refuse_shadowed"),
        ("tests/test_pagepaths.py", "tests/test_api_errors.py"),
    ),
    Target(
        "commit path",
        "plugins/otterwiki_api/commits.py",
        (),
        (
            "tests/test_commit_locks.py",  # first: quick, and -x stops at the first failure
            "tests/test_commit_path.py",
            "tests/test_service_layer.py",
            "tests/test_crash.py::test_a_stale_index_lock_blocks_no_write_for_long",
            "tests/test_basetrees.py",
        ),
    ),
    Target(
        "git objects",
        "plugins/otterwiki_api/gitobjects.py",
        (),
        (
            "tests/test_gitobjects.py",  # first: quick, against git itself
            "tests/test_commit_path.py",
            "tests/test_service_layer.py",
            "tests/test_api_pages.py",
        ),
    ),
    Target(
        "index file",
        "plugins/otterwiki_api/indexsum.py",
        (),
        ("tests/test_indexfile.py", "tests/test_index_moves.py", "tests/test_commit_path.py"),
    ),
    Target(
        "index file patch",
        "plugins/otterwiki_api/indexfile.py",
        ("patch_index",),
        ("tests/test_indexfile.py", "tests/test_index_moves.py", "tests/test_commit_path.py"),
    ),
    Target(
        "page index catch-up",
        "plugins/otterwiki_api/page_index.py",
        ("PageIndex.ensure_current", "PageIndex._catch_up", "_latest_changes"),
        ("tests/test_service_layer.py", "tests/test_api_interop.py", "tests/test_index_build.py"),
    ),
    Target(
        "local OAuth",
        "plugins/otterwiki_mcp/local_oauth.py",
        (
            "LocalOAuthProvider._check_resource",
            "LocalOAuthProvider._live",
            "LocalOAuthProvider.load_access_token",
            "LocalOAuthProvider.exchange_authorization_code",
            "LocalOAuthProvider.load_authorization_code",
            "LocalOAuthProvider._issued_here",
        ),
        (
            "tests/test_oauth_exchange.py",  # first: quick, provider-level
            "tests/test_mcp_oauth.py",
            "tests/test_oauth_promises.py",
            "tests/test_oauth_hardening.py",
        ),
    ),
    Target(
        "approval attempts",
        "plugins/otterwiki_mcp/attempts.py",
        (
            "address_key",
            "Attempts.blocked_for",
            "Attempts.begin",
            "Attempts.failed",
            "Attempts.succeeded",
            "Attempts._row",
            "Attempts._put",
        ),
        ("tests/test_approval_lockout.py",),
    ),
    Target(
        "route plan",
        "wikibot/routeplan.py",
        ("_rank", "select", "_segments_match", "build_plan"),
        (
            "tests/test_infra.py::test_plan_route_keys_and_targets",
            "tests/test_infra.py::test_route_selection_follows_api_gateway",
            "tests/test_infra.py::test_route_ranks_do_not_depend_on_the_plan_order",
            "tests/test_infra.py::test_paths_under_the_mcp_endpoint_are_left_to_its_two_routes",
            "tests/test_infra.py::test_wiki_paths_go_to_the_wiki_and_a_path_both_would_serve_is_refused",
            "tests/test_infra.py::test_the_plan_is_in_order_whatever_order_the_paths_are_declared_in",
            "tests/test_infra.py::test_a_root_mount_is_refused",
            "tests/test_infra.py::test_every_declared_path_has_a_route_and_wiki_paths_stay_with_the_wiki",
            "tests/test_plugin_and_paths.py",
        ),
    ),
    Target(
        "gateway limits",
        "wikibot/gateway.py",
        ("Gateway.dispatch", "translate_result"),
        (
            "tests/test_e2e.py::test_gateway_builds_payload_2_events",
            "tests/test_e2e.py::test_gateway_bodies_text_or_base64",
            "tests/test_e2e.py::test_gateway_answers",
            "tests/test_gateway_limits.py",
        ),
    ),
    Target(
        "base trees",
        "plugins/otterwiki_api/basetrees.py",
        (),
        ("tests/test_basetrees.py", "tests/test_commit_path.py"),
    ),
    Target(
        "edit operations",
        "plugins/otterwiki_api/edits.py",
        (),
        (
            "tests/test_edits_unit.py",
            "tests/test_edit_operations.py::test_append_and_prepend_need_no_revision",
            "tests/test_edit_operations.py::test_replace_section_keeps_its_heading_and_the_rest",
            "tests/test_edit_operations.py::test_find_replace_refuses_an_unexpected_count",
            "tests/test_edit_operations.py::test_set_frontmatter_merges_and_the_index_follows",
            "tests/test_edit_operations.py::test_bad_edits_are_refused_and_change_nothing",
            "tests/test_edit_operations.py::test_an_ambiguous_heading_and_a_missing_page",
        ),
    ),
]


@dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    function: str
    change: str
    source: str  # the whole mutated module

    @property
    def key(self) -> str:
        return f"{self.path}:{self.function}:{self.change}"


_SWAPS: dict[type, type] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", item


def _changes(node: ast.AST) -> Iterator[tuple[str, callable]]:
    """(description, apply) for each mutation of this one node; apply changes it in place."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            swap = _SWAPS.get(type(op))
            if swap:

                def apply(n: ast.Compare = node, i: int = i, swap: type = swap) -> None:
                    n.ops[i] = swap()

                yield f"{type(op).__name__} -> {swap.__name__}", apply
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And

        def apply(n: ast.BoolOp = node, other: type = other) -> None:
            n.op = other()

        yield f"{type(node.op).__name__} -> {other.__name__}", apply
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "drop not", lambda n=node: setattr(n, "op", ast.UAdd())
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield f"{node.value} -> {not node.value}", lambda n=node: setattr(n, "value", not n.value)
    elif (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        yield f"{node.value} -> {node.value + 1}", lambda n=node: setattr(n, "value", n.value + 1)
    elif isinstance(node, ast.Raise) and node.exc is not None:
        yield "raise -> pass", None  # statement replacements are handled by the parent
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await):
        yield "call removed", None
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            yield "return None", lambda n=node: setattr(n, "value", ast.Constant(None))


def _replace_statement(func: ast.AST, target: ast.stmt) -> None:
    for parent in ast.walk(func):
        for field in ("body", "orelse", "finalbody", "handlers"):
            stmts = getattr(parent, field, None)
            if isinstance(stmts, list) and target in stmts:
                stmts[stmts.index(target)] = ast.Pass()
                return


def mutants(target: Target) -> Iterator[Mutant]:
    with open(os.path.join(ROOT, target.path), encoding="utf-8") as f:
        source = f.read()
    tree = ast.parse(source)
    for name, func in _functions(tree):
        if target.functions and name not in target.functions:
            continue
        nodes = [n for n in ast.walk(func) if n is not func]
        docstring = getattr(func, "body", [None])[0]
        for index, node in enumerate(nodes):
            if node is docstring or isinstance(node, ast.arg | ast.arguments):
                continue
            for change, apply in _changes(node):
                mutated = copy.deepcopy(tree)
                mfunc = dict(_functions(mutated))[name]
                mnode = [n for n in ast.walk(mfunc) if n is not mfunc][index]
                if apply is None:
                    _replace_statement(mfunc, mnode)
                else:
                    apply(mnode)
                text = ast.unparse(ast.fix_missing_locations(mutated))
                yield Mutant(target.path, node.lineno, name, f"line {node.lineno}: {change}", text)


def copy_project(into: str) -> None:
    for name in ("plugins", "wikibot", "tests", "scripts", "infra", "benchmarks"):
        shutil.copytree(
            os.path.join(ROOT, name),
            os.path.join(into, name),
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"),
        )
    for name in ("lambda_init.py", "pyproject.toml"):
        shutil.copy(os.path.join(ROOT, name), into)


def run_tests(work: str, tests: tuple[str, ...], timeout: float) -> bool:
    """True when the tests pass (the mutant survived)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(work, "plugins"), work])}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=work,
            env=env,
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return False  # a hang counts as noticed
    return proc.returncode == 0


def load_equivalent() -> dict[str, str]:
    known = {}
    if os.path.exists(EQUIVALENT):
        with open(EQUIVALENT, encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    key, _, why = line.rstrip("\n").partition(" | ")
                    known[key.strip()] = why
    return known


def load_keys(path: str) -> set[str]:
    """Mutant keys, one a line (a survivors list, with or without the 'survived: ' prefix and an
    equivalence reason): rerunning only them after new tests takes minutes, not an hour."""
    keys = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split(" | ")[0].split("  (equivalent:")[0].strip()
            if line and not line.startswith("#"):
                keys.add(line.removeprefix("survived: ").strip())
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", help="only targets whose name or path contains this")
    parser.add_argument("--list", action="store_true", help="list targets and mutant counts")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per test run (300)")
    parser.add_argument(
        "--only",
        metavar="FILE",
        help="run only the mutants whose key (as printed after 'survived:') is a line of FILE",
    )
    args = parser.parse_args(argv)
    only = load_keys(args.only) if args.only else None
    targets = [
        t for t in TARGETS if not args.module or args.module in t.name or args.module in t.path
    ]
    if not targets:
        parser.error(f"no target matches {args.module!r}")
    if args.list:
        for t in targets:
            print(f"{t.name:22} {t.path:42} {sum(1 for _ in mutants(t)):4} mutants")
        return 0
    equivalent = load_equivalent()
    unexplained = 0
    summary = []
    matched: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="wikibot-mutation-") as work:
        copy_project(work)
        if not run_tests(work, tuple(sorted({x for t in targets for x in t.tests})), 900):
            print("the tests fail without any mutant; fix them first", file=sys.stderr)
            return 2
        for target in targets:
            path = os.path.join(work, target.path)
            with open(path, encoding="utf-8") as f:
                original = f.read()
            found = [m for m in mutants(target) if only is None or m.key in only]
            matched.update(m.key for m in found)
            killed, survivors = 0, []
            started = time.monotonic()
            for i, mutant in enumerate(found, 1):
                with open(path, "w", encoding="utf-8") as f:
                    f.write(mutant.source)
                survived = run_tests(work, target.tests, args.timeout)
                killed += not survived
                if survived:
                    survivors.append(mutant)
                print(
                    f"\r{target.name}: {i}/{len(found)} mutants, {killed} killed",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
            print(file=sys.stderr)
            for mutant in survivors:
                why = equivalent.get(mutant.key)
                if why is None:
                    unexplained += 1
                print(f"  survived: {mutant.key}" + (f"  (equivalent: {why})" if why else ""))
            rate = killed / len(found) if found else 1.0
            summary.append((target, len(found), killed, time.monotonic() - started))
            print(f"{target.name}: {killed}/{len(found)} killed ({rate:.0%})")
    if only is not None and only - matched:  # e.g. a line number shifted by an edit since
        print(f"{len(only - matched)} listed key(s) match no mutant:", file=sys.stderr)
        for key in sorted(only - matched):
            print(f"  {key}", file=sys.stderr)
    print("\nkill rate per module")
    for target, total, killed, seconds in summary:
        rate = f"{killed / total:.0%}" if total else "-"
        print(
            f"  {target.name:22} {target.path:42} {killed:4}/{total:<4} {rate:>5}  {seconds:5.0f} s"
        )
    print(f"unexplained survivors: {unexplained}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
