"""The compact copy of a segment's vectors: 8-bit codes, a quarter of the float32 bytes, that FAISS
scans first to pick candidates which are then re-scored exactly from the float32 vectors.

Why: at 100,000 rows of 1,024 dimensions an exact scan reads 410 MB per query and is bound by
memory bandwidth; the codes are 102 MB. The answer stays the exact one by a bound, not by luck.
Codes are c = round(v * scale), one scale per segment; FAISS rounds the query to integers q' too,
and scores q'.c exactly. Then |q.v - q'.c / scale| <= |q'| * bound + |q - q'| * norm, where bound
is the largest |v - c / scale| and norm the largest |v| of the segment (measured when the codes
are written). Once the k-th best exact score among the candidates exceeds the best any other row
could reach (the lowest candidate's 8-bit score plus that margin), no other row can enter the top
k; until then the candidates are widened (at worst to every row: an exact scan).

File `NAME.sq8`: a FAISS IndexScalarQuantizer (QT_8bit_direct_signed, inner product) serialised
here byte by byte, so a writer without FAISS (the Lambda package) writes it too; its codes are
c + 128, followed by [scale, bound, norm] as float32 (FAISS reads no further than the codes).
FAISS maps it (IO_FLAG_MMAP_IFC) instead of reading it. numpy has no fast 8-bit product, so
without FAISS the store scans the float32 vectors and never reads this file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

SUFFIX = ".sq8"
MIN_ROWS = 20_000  # below this an exact scan is as fast as two stages (tests lower it)
FIRST = 1024  # candidates of the first try (at least 4 k): a scan costs ~the same up to there
WIDEN = 4  # the candidates grow by this factor while the bound does not hold
_QT_8BIT_DIRECT_SIGNED = 8  # faiss.ScalarQuantizer.QT_8bit_direct_signed
_METRIC_INNER_PRODUCT = 0
TRAILER = "<fff"  # scale, bound, norm


def header(dimension: int, rows: int) -> bytes:
    """What faiss.write_index writes before the codes of such an index (index_write.cpp):
    the index header, the scalar quantizer (nothing trained), the codes' length."""
    return b"".join(
        [
            b"IxSQ",
            struct.pack("<iqqq?i", dimension, rows, 1 << 20, 1 << 20, True, _METRIC_INNER_PRODUCT),
            struct.pack("<iifQQ", _QT_8BIT_DIRECT_SIGNED, 0, 0.0, dimension, dimension),
            struct.pack("<QQ", 0, rows * dimension),
        ]
    )


def encode(vectors: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """(codes as stored, scale, bound, norm) of float32 rows: one scale per segment, so the
    ranking by q.c is the ranking by q.c / scale."""
    import numpy as np

    peak = float(np.abs(vectors).max()) if vectors.size else 0.0
    scale = 127.0 / peak if peak > 0 else 1.0
    signed = np.rint(vectors * np.float32(scale)).astype(np.int16)
    residual = vectors - signed.astype(np.float32) / np.float32(scale)
    return (signed + 128).astype(np.uint8), scale, _largest_norm(residual), _largest_norm(vectors)


def _largest_norm(rows: np.ndarray) -> float:
    """The largest row norm, rounded up to the next float32 (it must hold once stored so)."""
    import numpy as np

    largest = np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64).max())
    return float(np.nextafter(np.float32(largest), np.float32(np.inf)))


def write(path: str, vectors: np.ndarray) -> None:
    """Write and fsync the codes of `vectors` (float32 rows); nothing for no rows."""
    if not len(vectors):
        return
    stored, scale, bound, norm = encode(vectors)
    with open(path, "wb") as f:
        f.write(header(vectors.shape[1], len(vectors)))
        f.write(memoryview(stored).cast("B"))
        f.write(struct.pack(TRAILER, scale, bound, norm))
        f.flush()
        os.fsync(f.fileno())


@dataclass
class Codes:
    """A segment's codes mapped by FAISS, with the figures written with them."""

    index: Any
    scale: float  # codes = round(v * scale)
    bound: float  # the largest |v - codes / scale|
    norm: float  # the largest |v|

    @property
    def nbytes(self) -> int:
        return int(self.index.ntotal) * int(self.index.d)


def load(faiss: Any, path: str) -> Codes | None:
    """The codes of a segment, mapped; None when it has none (written before they existed) or
    they cannot be read: its searches then scan the float32 vectors."""
    try:
        index = faiss.read_index(path, faiss.IO_FLAG_MMAP_IFC)
        with open(path, "rb") as f:
            size = struct.calcsize(TRAILER)
            scale, bound, norm = struct.unpack(
                TRAILER, os.pread(f.fileno(), size, os.fstat(f.fileno()).st_size - size)
            )
    except (RuntimeError, OSError, struct.error):
        return None
    return Codes(index, scale, bound, norm)


def top_k(
    faiss: Any,
    codes: Codes,
    vectors: np.ndarray,
    query: np.ndarray,
    k: int,
    live_bits: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(rows, exact scores, rows re-scored) of the k largest inner products among live rows,
    best first: the codes pick candidates, the float32 vectors score them (see the module)."""
    import numpy as np

    total, dimension = vectors.shape
    small, unit, margin = _small_query(query, codes, dimension)
    selector = (
        None if live_bits is None else faiss.IDSelectorBitmap(total, faiss.swig_ptr(live_bits))
    )
    params = None if selector is None else faiss.SearchParameters(sel=selector)
    want = min(total, max(FIRST, 4 * k))
    while True:
        approx, rows = codes.index.search(small.reshape(1, -1), want, params=params)
        found = rows[0] >= 0
        rows, approx = rows[0][found], approx[0][found]
        order = np.argsort(rows)  # rows in file order: the gather reads forward
        exact = np.empty(len(rows), dtype=np.float32)
        # einsum, not @: numpy's BLAS threads wake slowly after FAISS's OpenMP call (5 ms)
        exact[order] = np.einsum("ij,j->i", vectors[rows[order]], query)
        best = np.argsort(-exact, kind="stable")[:k]
        covered = len(rows) < want or want == total  # every live row is a candidate
        if covered or float(approx[-1]) * unit + margin < float(exact[best[-1]]):
            return rows[best], exact[best], len(rows)
        want = min(total, want * WIDEN)


def _small_query(
    query: np.ndarray, codes: Codes, dimension: int
) -> tuple[np.ndarray, float, float]:
    """The query as integers in [-127, 127] (FAISS rounds the query of this quantizer to
    integers; given integers, its scores are exact integer products), what one unit of such a
    score is worth, and the margin: how far q.v may lie from the approximate score of a row v."""
    import numpy as np

    peak = float(np.abs(query).max())
    step = peak / 127.0 if peak > 0 else 1.0
    small = np.rint(query.astype(np.float64) / step)
    rounded = small * step
    # q.v = q'.c / scale + q'.(v - c / scale) + (q - q').v, q' the rounded query; then the
    # float32 rounding of the exact re-score (d terms of |q| |v|)
    margin = (
        float(np.linalg.norm(rounded)) * codes.bound
        + float(np.linalg.norm(query - rounded)) * codes.norm
        + (dimension + 2) * 2.0**-23 * float(np.linalg.norm(query)) * codes.norm
    )
    return small.astype(np.float32), step / codes.scale, margin
