"""The 8-bit codes FAISS scans before re-scoring candidates exactly (codes.py, issue 13 item 3):
the answers are the brute-force ones (rows in order, scores to float32 rounding) on random
1,024-dimension data, with tombstones, on near-duplicates that defeat the first try, and on the
real local model's vectors; the scan reads a quarter of the bytes; a segment without codes (or
with a damaged file) is still searched exactly; the file is what FAISS itself would write."""

from __future__ import annotations

import os

import numpy as np
import pytest
from otterwiki_search import codes, store
from otterwiki_search.store import StoreState, VectorStore

faiss = pytest.importorskip("faiss")
TOP = (1, 10, 40, 200)


def unit_rows(n: int, dimension: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dimension), dtype="float32")
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def chunks(n: int, prefix: str = "p") -> list[dict]:
    return [{"page": f"{prefix}{i // 5}.md", "text": f"{prefix} {i}"} for i in range(n)]


def saved(folder: str, rows: np.ndarray, prefix: str = "p") -> VectorStore:
    vectors = VectorStore(folder)
    with vectors.update():
        identity = {"dimension": rows.shape[1]}
        vectors.save(StoreState(identity, chunks=chunks(len(rows), prefix), vectors=rows))
    return vectors


class Spy:
    """Counts the two-stage searches and the rows they re-scored, by k."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls, self.rescored = 0, []
        real = codes.top_k

        def spy(faiss, found, vectors, query, k, live_bits):
            rows, scores, rescored = real(faiss, found, vectors, query, k, live_bits)
            self.calls += 1
            self.rescored.append((k, rescored))
            return rows, scores, rescored

        monkeypatch.setattr(codes, "top_k", spy)


def assert_same_ranking(got: list[int], scores: list[float], exact: np.ndarray) -> None:
    """`got` (rows, best first, with `scores`) is the brute-force top k of `exact` (float64
    scores of every row): the same rows in the same order, except that two rows whose exact
    scores float32 cannot tell apart (within 1e-6) may come in either order."""
    best = np.argsort(-exact, kind="stable")[: len(got)]
    assert len(set(got)) == len(got)
    for mine, theirs in zip(got, best, strict=True):
        assert mine == theirs or abs(exact[mine] - exact[theirs]) < 1e-6, (mine, theirs)
    assert scores == pytest.approx(exact[best].tolist(), abs=2e-6)


def assert_exact(state: StoreState, matrix: np.ndarray, texts: list[str], queries, ks=TOP):
    """Every answer is the brute-force top k of `matrix` (the live rows, as `texts`)."""
    row_of = {t: i for i, t in enumerate(texts)}
    for query in queries:
        exact = matrix.astype(np.float64) @ np.asarray(query, dtype=np.float64)
        for k in ks:
            got = state.search(query, k)
            rows = [row_of[state.chunks[r]["text"]] for r, _ in got]
            assert_same_ranking(rows, [s for _, s in got], exact)


def test_random_1024_dimensions_identical_to_brute_force_reading_a_quarter(tmp_path, monkeypatch):
    """Random unit vectors (the hardest case: every score near 0) at the real MIN_ROWS: the
    two-stage path answers every query, exactly, and reads far fewer bytes than a float32 scan."""
    rows = unit_rows(24_000, 1024, seed=3)
    state = saved(str(tmp_path / "v"), rows).read()
    assert len(state._segments) == 1 and state._segments[0].codes(faiss) is not None
    spy = Spy(monkeypatch)
    # random queries and near-duplicates of rows (one very high score, then the crowd)
    queries = [
        *unit_rows(12, 1024, seed=4),
        *(rows[[5, 999, 23_999]] + 0.01 * unit_rows(3, 1024, 5)),
    ]
    assert_exact(state, rows, [f"p {i}" for i in range(len(rows))], queries)
    assert spy.calls == len(queries) * len(TOP)
    # bytes a query reads: all the codes and the re-scored rows, against the float32 scan
    segment = state._segments[0]
    assert segment.codes(faiss).nbytes * 4 == segment.vectors.nbytes
    for k, rescored in spy.rescored:
        read = segment.codes(faiss).nbytes + rescored * 1024 * 4
        assert read < segment.vectors.nbytes / (3 if k <= 40 else 2), (k, rescored)


def test_replaced_rows_are_never_answered(tmp_path, monkeypatch):
    """Tombstones (pages replaced by a later segment) reach the 8-bit scan as a bitmap."""
    monkeypatch.setattr(store, "tail_to_merge", lambda rows, live: None)
    rows = unit_rows(21_000, 256, seed=6)
    vectors = saved(str(tmp_path / "v"), rows)
    replaced = {f"p{i}.md" for i in range(0, 4200, 3)}
    new = unit_rows(10, 256, seed=7)
    with vectors.update() as state:
        state.drop_pages(replaced)
        state.add([{"page": "p0.md", "text": f"new {i}"} for i in range(10)], new)
        vectors.save(state)
    state = VectorStore(vectors.folder).read()
    keep = [i for i in range(len(rows)) if f"p{i // 5}.md" not in replaced]
    matrix = np.vstack([rows[keep], new])
    texts = [f"p {i}" for i in keep] + [f"new {i}" for i in range(10)]
    spy = Spy(monkeypatch)
    # queries aimed at replaced rows: their exact copies must not come back
    queries = [rows[0], rows[3 * 5], *unit_rows(6, 256, seed=8)]
    assert_exact(state, matrix, texts, queries)
    assert spy.calls == len(queries) * len(TOP)


def test_near_duplicates_widen_the_candidates_until_the_bound_holds(tmp_path, monkeypatch):
    """Rows crowded around one direction: the first 16 candidates cannot prove the top k, so the
    search widens them (more rows re-scored) and still answers exactly."""
    monkeypatch.setattr(codes, "FIRST", 16)
    monkeypatch.setattr(codes, "MIN_ROWS", 1)
    center = unit_rows(1, 384, seed=9)[0]
    rows = center + 0.1 * unit_rows(6000, 384, seed=10)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    state = saved(str(tmp_path / "v"), rows).read()
    spy = Spy(monkeypatch)
    queries = [center, rows[17], *unit_rows(3, 384, seed=11)]
    assert_exact(state, rows, [f"p {i}" for i in range(len(rows))], queries, ks=(1, 5, 40))
    assert max(r for _, r in spy.rescored) > 4 * 40  # widened past the first try


def test_the_local_models_vectors_identical_to_brute_force(tmp_path, monkeypatch):
    """Real sentence embeddings (clustered, not random): lines of the project's documents."""
    from otterwiki_search.local_model import LocalEmbedder

    monkeypatch.setattr(codes, "MIN_ROWS", 1)
    monkeypatch.setattr(codes, "FIRST", 64)
    root = os.path.dirname(os.path.dirname(__file__))
    texts: list[str] = []
    for name in (
        "README.md",
        "plugins/otterwiki_search/store.py",
        "plugins/otterwiki_search/codes.py",
    ):
        with open(os.path.join(root, name), encoding="utf-8") as f:
            texts += [line.strip() for line in f if len(line.strip()) > 20]
    texts = list(dict.fromkeys(texts))[:1500]
    embedder = LocalEmbedder()
    rows = embedder.embed(texts).astype("float32")
    vectors = VectorStore(str(tmp_path / "v"))
    with vectors.update():
        chunk_dicts = [{"page": f"p{i // 5}.md", "text": t} for i, t in enumerate(texts)]
        vectors.save(StoreState({"dimension": rows.shape[1]}, None, None, chunk_dicts, rows))
    state = VectorStore(vectors.folder).read()
    spy = Spy(monkeypatch)
    questions = [
        "how fast is a query at 1,024 dimensions?",
        "atomic saves and crash safety",
        "install into an existing Otterwiki",
        "what does the MCP server offer?",
    ]
    queries = [*embedder.embed(questions), rows[10], rows[700]]
    assert_exact(state, rows, texts, queries, ks=(1, 10, 40))
    assert spy.calls == len(queries) * 3


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_segment_without_usable_codes_is_scanned_exactly(tmp_path, monkeypatch, damage):
    """A segment written before the codes existed (or whose file is damaged) is searched in
    float32; the next segment written has codes."""
    monkeypatch.setattr(codes, "MIN_ROWS", 1)
    monkeypatch.setattr(store, "tail_to_merge", lambda rows, live: None)
    rows = unit_rows(3000, 128, seed=12)
    vectors = saved(str(tmp_path / "v"), rows)
    name = vectors.read()._segments[0].name
    path = os.path.join(vectors.folder, name + codes.SUFFIX)
    if damage == "missing":
        os.remove(path)
    else:
        os.truncate(path, 100)
    state = VectorStore(vectors.folder).read()
    assert state._segments[0].codes(faiss) is None
    spy = Spy(monkeypatch)
    assert_exact(state, rows, [f"p {i}" for i in range(len(rows))], unit_rows(4, 128, seed=13))
    assert spy.calls == 0
    more = unit_rows(500, 128, seed=14)
    with vectors.update() as state:
        state.add(chunks(500, "q"), more)
        vectors.save(state)
    state = VectorStore(vectors.folder).read()
    assert state._segments[0].codes(faiss) is None and state._segments[1].codes(faiss)
    texts = [f"p {i}" for i in range(len(rows))] + [f"q {i}" for i in range(500)]
    assert_exact(state, np.vstack([rows, more]), texts, unit_rows(4, 128, seed=15))
    assert spy.calls > 0


def test_the_codes_file_is_what_faiss_writes(tmp_path):
    """Written without FAISS (the Lambda package writes segments too), read by FAISS mapped."""
    rows = unit_rows(7, 48, seed=16)
    path = str(tmp_path / "x.sq8")
    codes.write(path, rows)
    stored, scale, bound, norm = codes.encode(rows)
    index = faiss.IndexScalarQuantizer(
        48, faiss.ScalarQuantizer.QT_8bit_direct_signed, faiss.METRIC_INNER_PRODUCT
    )
    index.add(stored.astype("float32") - 128)
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(faiss.serialize_index(index).tobytes())
    loaded = codes.load(faiss, path)
    assert loaded is not None and not loaded.index.codes.is_owned  # mapped, not copied
    assert (loaded.scale, loaded.bound, loaded.norm) == pytest.approx((scale, bound, norm))
    residual = rows - (stored.astype("float32") - 128) / scale
    assert np.linalg.norm(residual, axis=1).max() <= loaded.bound


def test_the_bound_is_what_keeps_the_answer_exact(tmp_path, monkeypatch):
    """Crowded rows, coarse codes (one row along an axis sets the scale: 1/127 a step) and the
    fewest candidates (4 k): the 8-bit order often differs from the exact one here, so only the
    bound (not luck) sends the search on to the rows it must re-score."""
    monkeypatch.setattr(codes, "FIRST", 1)
    center = unit_rows(1, 64, seed=17)[0]
    rows = center + 0.2 * unit_rows(3000, 64, seed=18)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    rows[0] = np.eye(64, dtype="float32")[0]
    path = str(tmp_path / "x.sq8")
    codes.write(path, rows)
    found = codes.load(faiss, path)
    queries = center + 0.2 * unit_rows(200, 64, seed=19)
    reordered = 0
    for query in queries.astype("float32"):
        exact = rows.astype(np.float64) @ query.astype(np.float64)
        for k in (1, 3):
            got, scores, _ = codes.top_k(faiss, found, rows, query, k, None)
            assert_same_ranking(got.tolist(), scores.tolist(), exact)
            small = codes._small_query(query, found, 64)[0]
            first = found.index.search(small.reshape(1, -1), 4 * k)[1][0]
            reordered += not set(np.argsort(-exact)[:k]) <= set(first)
    assert reordered > 10, reordered  # the first candidates alone would have been wrong that often


def test_a_row_the_codes_undervalue_is_still_found(tmp_path, monkeypatch):
    """Built so that the 8-bit scores lie: the scale is 1/127 a step (an axis row); row A's
    values just under half a step round to 0, so its 8-bit score is below the four candidates'
    while its exact score is the best. Only the bound (A's rounding error) widens the search."""
    monkeypatch.setattr(codes, "FIRST", 1)
    step, under = 1 / 127, 0.0039  # 0.0039 * 127 < 0.5: rounds to 0
    rows = np.zeros((12, 64), dtype="float32")
    rows[0, 0] = -1.0  # sets the scale, far from the query
    rows[1:5, :32] = step  # candidates: 8-bit score 32 steps, exact a little more
    rows[1:5, 32:48] = under
    rows[5, :31] = step  # A: 8-bit score 31 steps, exact far more
    rows[5, 31:] = under
    rows[6:] = step * np.eye(6, 64, dtype="float32")
    path = str(tmp_path / "x.sq8")
    codes.write(path, rows)
    found = codes.load(faiss, path)
    query = np.full(64, 0.125, dtype="float32")  # exact in 8 bits: no rounding of the query
    exact = rows.astype(np.float64) @ query
    assert np.argmax(exact) == 5
    got, scores, rescored = codes.top_k(faiss, found, rows, query, 1, None)
    assert got.tolist() == [5] and rescored > 4


def test_a_row_the_rounded_query_undervalues_is_still_found(tmp_path, monkeypatch):
    """The same lie from the query's side: rows exactly on the code grid (no rounding of rows),
    a query whose small components (just under half its step) round to 0, and a row A whose
    exact score comes from those components alone. Only the query's rounding error widens."""
    monkeypatch.setattr(codes, "FIRST", 1)
    grid = 1 / 127
    rows = np.zeros((10, 64), dtype="float32")
    rows[0, 0] = -1.0  # the row scale: 1/127 a step
    rows[1:5, 63] = 2 * grid  # candidates: 8-bit score 2 steps, exact a little more
    rows[1:5, :32] = grid
    rows[5, 63] = grid  # A: 8-bit score 1 step, exact far more
    rows[5, 1:63] = 16 * grid
    rows[6:] = grid * np.eye(4, 64, k=40, dtype="float32")
    path = str(tmp_path / "x.sq8")
    codes.write(path, rows)
    found = codes.load(faiss, path)
    assert found.bound < 1e-6
    query = np.full(64, 0.0039, dtype="float32")  # 0.0039 * 127 < 0.5: rounds to 0
    query[63] = 1.0
    exact = rows.astype(np.float64) @ query
    assert np.argmax(exact) == 5
    got, scores, rescored = codes.top_k(faiss, found, rows, query, 1, None)
    assert got.tolist() == [5] and rescored > 4
