"""The vector store in segments (issue 13, item 3): a sync step's writes do not grow with the
store, a fresh process opens it without reading the vectors, a killed writer leaves the old or the
new state, two processes serialise, compaction changes no answer, a format-1 store is migrated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import external_commit
from otterwiki_api.gitcli import Git
from otterwiki_search import compaction, store
from otterwiki_search.store import StoreState, VectorStore
from otterwiki_search.sync import ChunkingRules, VectorSync
from search_helpers import fake_vector, init_repo

TESTS = os.path.dirname(__file__)


class FakeEmbedder:
    kind, model, dimension = "bedrock", "fake", 384

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray([fake_vector(t, self.dimension) for t in texts], dtype="float32")

    def fits(self, text: str) -> bool:
        return True


def unit_rows(n: int, dimension: int, seed: int = 1) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dimension)).astype("float32")
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def filler(n: int, prefix: str = "filler") -> list[dict]:
    return [
        {"page": f"{prefix}/{i // 5}.md", "path": f"{prefix}/{i // 5}", "name": str(i // 5),
         "section": "", "text": f"chunk {i} " + "words " * 100}
        for i in range(n)
    ]  # fmt: skip


def written_bytes() -> int:
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("wchar:")).split()[1])


def padded_wiki(tmp_path, n: int) -> tuple[str, VectorSync]:
    """A three-page wiki synced, its store padded with n chunks of pages outside git."""
    repo = init_repo(tmp_path / f"repo{n}")
    for page in ("a", "b", "c"):
        external_commit(repo, f"{page}.md", f"# {page}\n\n" + f"text of {page}. " * 50, page)
    vectors = VectorStore(str(tmp_path / f"vectors{n}"))
    sync = VectorSync(Git(repo), vectors, FakeEmbedder(), ChunkingRules(1000, 150), lambda: 0)
    assert sync.step(budget=60)["status"] == "complete"
    with vectors.update() as state:
        state.add(filler(n), unit_rows(n, 384))
        vectors.save(state)
    return repo, sync


def test_syncing_one_page_writes_as_much_at_20000_chunks_as_at_2000(tmp_path):
    """Format 1 rewrote the whole file (30 MB at 20,000 chunks of 384 dimensions) per step."""
    spent = {}
    for n in (2000, 20000):
        repo, sync = padded_wiki(tmp_path, n)
        external_commit(repo, "b.md", "# b\n\nchanged text. " * 30, "edit b")
        before = written_bytes()
        assert sync.step(budget=60)["status"] == "complete"
        spent[n] = written_bytes() - before
        assert sync.store.read().pages() >= {"a.md", "b.md", "c.md"}
    assert spent[20000] < 100_000, spent
    assert abs(spent[20000] - spent[2000]) < 5_000, spent


OPEN = """
import json, sys
sys.path.insert(0, {tests!r})
import numpy as np
from otterwiki_search import store
from search_helpers import fake_vector
store.faiss_module()
def read_bytes():
    with open("/proc/self/io") as f:
        return int(next(l for l in f if l.startswith("rchar:")).split()[1])
before = read_bytes()
state = store.VectorStore({folder!r}).read()
answer = {{"chunks": len(state.chunks), "pages": len(state.pages())}}
row, score = state.search(np.asarray(fake_vector("probe", 384), dtype="float32"), 1)[0]
answer.update(hit=state.chunks[row]["text"], score=score, read=read_bytes() - before)
print(json.dumps(answer))
"""


def test_a_fresh_process_opens_the_store_without_reading_its_vectors(tmp_path):
    folder = str(tmp_path / "vectors")
    vectors = VectorStore(folder)
    chunks, rows = filler(20000), unit_rows(20000, 384)
    chunks[777] = {**chunks[777], "text": "the probe"}
    rows[777] = fake_vector("probe", 384)
    with vectors.update():
        vectors.save(StoreState({"dimension": 384}, chunks=chunks, vectors=rows))
    script = OPEN.format(tests=TESTS, folder=folder)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    answer = json.loads(out.stdout)
    assert answer["chunks"] == 20000 and answer["pages"] == 4000
    assert answer["hit"] == "the probe" and answer["score"] == pytest.approx(1.0, abs=1e-5)
    assert answer["read"] < rows.nbytes / 10, answer  # the page lists, not 30 MB of vectors


WRITER = """
import sys, numpy as np
sys.path.insert(0, {tests!r})
from otterwiki_search.store import StoreState, VectorStore
from search_helpers import fake_vector
store = VectorStore({folder!r})
name, count = sys.argv[1], int(sys.argv[2])
def rows(page, n):
    chunks = [{{"page": page, "text": f"{{page}} {{i}}"}} for i in range(n)]
    return chunks, np.asarray([fake_vector(f"{{page}} {{i}}", 64) for i in range(n)], "float32")
start = 0
state = store.read()
if state is not None:
    start = max((int(p.split("-")[1]) for p in state.pages() if p.startswith(name)), default=-1) + 1
for i in range(start, start + count):
    with store.update() as state:
        state = state or StoreState({{"dimension": 64}})
        state.drop_pages({{f"{{name}}-{{i - 3}}", "shared"}})
        state.add(*rows(f"{{name}}-{{i}}", {rows}))
        state.add(*rows("shared", 2))
        store.save(state)
    print(i, flush=True)
"""


def writer(folder: str, name: str, count: int, rows: int = 40) -> subprocess.Popen:
    script = WRITER.format(tests=TESTS, folder=folder, rows=rows)
    return subprocess.Popen(
        [sys.executable, "-c", script, name, str(count)], stdout=subprocess.PIPE, text=True
    )


def assert_consistent(state: StoreState, names: tuple[str, ...], rows: int) -> None:
    """Each writer's last three pages, whole, and one copy of the shared page; every row's
    vector is its own text's."""
    by_page: dict[str, list[str]] = {}
    for chunk in state.chunks:
        by_page.setdefault(chunk["page"], []).append(chunk["text"])
    assert len(by_page.pop("shared")) == 2
    for name in names:
        mine = sorted(int(p.split("-")[1]) for p in by_page if p.startswith(name))
        assert mine == list(range(mine[-1] - len(mine) + 1, mine[-1] + 1)) and len(mine) <= 3
    assert all(len(texts) == rows for texts in by_page.values())
    vectors = state.vectors
    for row in range(0, len(state.chunks), 7):
        expected = fake_vector(state.chunks[row]["text"], 64)
        assert float(vectors[row] @ expected) == pytest.approx(1.0, abs=1e-5)
        assert state.search(np.asarray(expected, "float32"), 1)[0][1] == pytest.approx(1.0, 1e-5)


def assert_no_stray_files(folder: str) -> None:
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    named = set(manifest["segments"]) | {n for n, _ in manifest["retired"]}
    stray = [f for f in os.listdir(folder) if f.startswith("seg-") and f.split(".")[0] not in named]
    assert not stray and not [f for f in os.listdir(folder) if f.endswith(".tmp")]


def test_a_writer_killed_mid_save_leaves_a_readable_store(tmp_path):
    """SIGKILL at random moments of a process saving in a loop (segments, compactions): the store
    reads as one whole state every time, and the next writer goes on from it."""
    folder = str(tmp_path / "vectors")
    rng = np.random.default_rng(3)
    for _ in range(5):
        proc = writer(folder, "w", 10_000)
        assert proc.stdout is not None and proc.stdout.readline()  # a first save is done
        time.sleep(float(rng.uniform(0.05, 0.6)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_consistent(VectorStore(folder).read(), ("w",), 40)
    proc = writer(folder, "w", 2)
    assert proc.wait(timeout=120) == 0
    assert_consistent(VectorStore(folder).read(), ("w",), 40)
    assert_no_stray_files(folder)


def test_a_save_that_fails_before_its_manifest_changes_nothing(tmp_path, monkeypatch):
    folder = str(tmp_path / "vectors")
    vectors = VectorStore(folder)
    with vectors.update():
        vectors.save(StoreState({"dimension": 8}, chunks=filler(10), vectors=unit_rows(10, 8)))

    def crash(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(store, "atomic_write", crash)
    with pytest.raises(OSError), vectors.update() as state:
        state.drop_pages({"filler/0.md"})
        state.add(filler(3, "new"), unit_rows(3, 8, seed=2))
        vectors.save(state)
    assert len(VectorStore(folder).read().chunks) == 10
    monkeypatch.undo()
    with vectors.update() as state:
        vectors.save(state)
    assert_no_stray_files(folder)


def test_two_processes_syncing_at_once_are_serialised(tmp_path):
    folder = str(tmp_path / "shared")
    procs = [writer(folder, name, 25, rows=3) for name in ("alpha", "beta")]
    assert [p.wait(timeout=180) for p in procs] == [0, 0]
    state = VectorStore(folder).read()
    assert_consistent(state, ("alpha", "beta"), 3)
    assert {p for p in state.pages() if p != "shared"} == {
        f"{n}-{i}" for n in ("alpha", "beta") for i in (22, 23, 24)
    }
    assert_no_stray_files(folder)


def answers(state: StoreState, queries: np.ndarray) -> list[list[tuple[str, float]]]:
    return [
        [(state.chunks[r]["text"], round(s, 5)) for r, s in state.search(q, 25)] for q in queries
    ]


@pytest.mark.parametrize("faiss", [True, False])
def test_compaction_changes_no_answer(tmp_path, monkeypatch, faiss):
    """Many small saves replacing pages (tombstones in many segments), then everything merged
    into one segment: the same chunks in the same order with the same scores, and both equal to
    the exact ranking of the live rows."""
    if not faiss:
        monkeypatch.setattr(store, "faiss_module", lambda: None)
    folder = str(tmp_path / "vectors")
    vectors = VectorStore(folder)
    monkeypatch.setattr(store, "tail_to_merge", lambda rows, live: None)
    live: dict[str, tuple[dict, np.ndarray]] = {}
    rng, seeds = np.random.default_rng(5), []
    for step in range(30):
        with vectors.update() as state:
            state = state or StoreState({"dimension": 32})
            pages = {f"p{int(x)}.md" for x in rng.integers(0, 40, 4)}
            state.drop_pages(pages)
            for page in pages:
                live = {t: v for t, v in live.items() if v[0]["page"] != page}
                chunks = [{"page": page, "text": f"{page} v{step} {i}"} for i in range(3)]
                rows = unit_rows(3, 32, seed=len(seeds))
                seeds.append(page)
                state.add(chunks, rows)
                live.update({c["text"]: (c, r) for c, r in zip(chunks, rows, strict=True)})
            vectors.save(state)
    before = VectorStore(folder).read()
    assert len(before._segments) == 30 and len(before.chunks) == len(live)
    queries = unit_rows(10, 32, seed=99)
    texts = list(live)
    matrix = np.asarray([live[t][1] for t in texts])
    for query, got in zip(queries, answers(before, queries), strict=True):
        scores = matrix @ query
        best = np.argsort(-scores)[:25]
        assert [t for t, _ in got] == [texts[i] for i in best]
    monkeypatch.setattr(store, "tail_to_merge", lambda rows, live: 0)
    with vectors.update() as state:
        vectors.save(state)
    after = VectorStore(folder).read()
    assert len(after._segments) == 1 and len(after.chunks) == len(live)
    assert answers(after, queries) == answers(before, queries)
    assert sorted(c["text"] for c in after.chunks) == sorted(texts)


def test_compaction_keeps_few_segments_and_small_writes():
    """10,000 one-page syncs (5 rows) on a 100,000-row store, as the policy plans them: a few
    segments at any time, and few rows written per step on average."""
    rows, live = [100_000], [100_000]
    written, most = 0, 0
    rng = np.random.default_rng(1)
    for _ in range(10_000):
        victim = int(rng.integers(0, len(rows)))
        if live[victim] >= 5:  # the page's old rows become tombstones
            live[victim] -= 5
        rows.append(5)
        live.append(5)
        written += 5
        start = compaction.tail_to_merge(rows, live)
        if start is not None:
            merged = sum(live[start:])
            written += merged
            rows[start:], live[start:] = [merged], [merged]
        most = max(most, len(rows))
    assert most <= 16
    assert written / 10_000 < 5 * 20  # rows written per step, all merges included


def test_a_format_1_store_is_migrated(tmp_path):
    folder = tmp_path / "vectors"
    folder.mkdir()
    chunks, rows = filler(12), unit_rows(12, 16)
    job = {"reason": "first build", "target": "abc", "pending": ["x.md"], "total": 2}
    meta = {"format": 1, "identity": {"dimension": 16}, "head": "abc", "job": job,
            "chunks": chunks}  # fmt: skip
    encoded = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(folder / "store.npz", vectors=rows, meta=encoded)
    state = VectorStore(str(folder)).read()
    assert (state.identity, state.head, state.job) == ({"dimension": 16}, "abc", job)
    assert list(state.chunks) == chunks and np.array_equal(state.vectors, rows)
    assert sorted(os.listdir(folder))[0] == "manifest.json"
    assert "store.npz" not in os.listdir(folder)
    assert VectorStore(str(folder)).read().job == job


def test_a_store_of_an_unknown_format_is_rebuilt(tmp_path):
    folder = str(tmp_path / "vectors")
    os.makedirs(folder)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"format": 99, "segments": ["seg-x"]}, f)
    vectors = VectorStore(folder)
    with pytest.raises(ValueError):
        vectors.read()
    with vectors.update() as state:
        assert state is None
        vectors.save(StoreState({"dimension": 8}, chunks=filler(5), vectors=unit_rows(5, 8)))
    assert len(VectorStore(folder).read().chunks) == 5
