"""NAS-Bench-101 cells: pruning, validity, the fingerprint hash and the full enumeration.

A cell is an upper-triangular 0/1 adjacency matrix over at most 7 vertices plus one label
per vertex: ``input`` first, ``output`` last, one of :data:`OPS` in between. Its id is the
fingerprint the original ``nasbench`` API computes, so ids match every NAS-Bench-101 table:

1. every vertex starts with the md5 of the text of the tuple ``(out-degree, in-degree,
   label)``, labels being -1 for input, -2 for output and the op's position in :data:`OPS`;
2. as many times as there are vertices, each vertex's value becomes the md5 of its
   in-neighbours' values sorted and concatenated, ``|``, its out-neighbours' values the same
   way, ``|``, and its own value (all as 32-character hex text);
3. the fingerprint is the md5 of the text of the sorted list of the final vertex values, as
   Python prints a list of strings.

The enumeration never hashes a cell twice: it first keeps one representative per
isomorphism class (inner-vertex permutations that keep the matrix upper-triangular, then
op labellings up to the graph's automorphisms), then runs the refinement above on all
representatives at once, hashing each distinct vertex neighbourhood once per round.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import struct
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasdb.errors import UnknownName

INPUT, OUTPUT = "input", "output"
OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT_LABEL, OUTPUT_LABEL, PAD_LABEL = -1, -2, -3
MAX_VERTICES, MAX_EDGES = 7, 9
NUM_CELLS = 423_624
CACHE_FILE = "nb101_cells_v1.npz"

_LABEL_OF = {INPUT: INPUT_LABEL, OUTPUT: OUTPUT_LABEL, **{op: i for i, op in enumerate(OPS)}}
_NAME_OF = {v: k for k, v in _LABEL_OF.items()}
_BAR = ord("|")


def edge_bit(i: int, j: int) -> int:
    """Bit of edge i->j in a cell's edge code; column-major, so it is the same for any size."""
    return i + j * (j - 1) // 2


_BIT_PAIRS = [(i, j) for j in range(MAX_VERTICES) for i in range(j)]  # bit k -> edge


# -- one cell -----------------------------------------------------------------------------
def label_of(op) -> int:
    """nasbench integer label of an op given by name or already as a label."""
    if isinstance(op, (int, np.integer)) and not isinstance(op, bool):
        if int(op) in _NAME_OF:
            return int(op)
    elif op in _LABEL_OF:
        return _LABEL_OF[op]
    raise UnknownName(
        f"nb101: unknown op {op!r}; use input, output, {', '.join(OPS)} or labels -1, -2, 0, 1, 2"
    )


def op_names(labels) -> list[str]:
    return [_NAME_OF[int(x)] for x in labels]


def prune(matrix: np.ndarray, labels: list[int]) -> tuple[np.ndarray, list[int]] | None:
    """Drop vertices off every input->output path, as nasbench does; None if none is left.

    Pruning first is what makes two specs that build the same network share one hash.
    """
    n = matrix.shape[0]
    reach = np.zeros(n, dtype=bool)
    reach[0] = True
    for v in range(1, n):
        reach[v] = bool((matrix[:v, v].astype(bool) & reach[:v]).any())
    back = np.zeros(n, dtype=bool)
    back[n - 1] = True
    for v in range(n - 2, -1, -1):
        back[v] = bool((matrix[v, v + 1 :].astype(bool) & back[v + 1 :]).any())
    keep = reach & back
    if not (keep[0] and keep[n - 1]) or n < 2:
        return None
    idx = np.flatnonzero(keep)
    return matrix[np.ix_(idx, idx)], [labels[i] for i in idx]


def check_cell(adjacency, ops) -> tuple[np.ndarray, list[int]]:
    """The pruned (matrix, labels) of a spec, or UnknownName saying why it is no NB101 cell."""
    try:
        matrix = np.asarray(adjacency)
    except Exception:  # ragged lists and the like
        raise UnknownName(f"nb101: adjacency {adjacency!r} is not a matrix") from None
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise UnknownName(f"nb101: adjacency must be a square matrix, got shape {matrix.shape}")
    if matrix.dtype.kind not in "biu" or not np.isin(matrix, (0, 1)).all():
        raise UnknownName("nb101: adjacency entries must be 0 or 1")
    matrix = matrix.astype(np.int8)
    labels = [label_of(op) for op in ops]
    n = matrix.shape[0]
    if len(labels) != n:
        raise UnknownName(f"nb101: {len(labels)} ops for a {n}x{n} adjacency")
    if np.tril(matrix).any():
        raise UnknownName("nb101: adjacency must be strictly upper triangular")
    pruned = prune(matrix, labels) if n >= 2 else None
    if pruned is None:
        raise UnknownName("nb101: the input is not connected to the output")
    matrix, labels = pruned
    n = matrix.shape[0]
    if n > MAX_VERTICES:
        raise UnknownName(f"nb101: {n} vertices after pruning; at most {MAX_VERTICES}")
    if int(matrix.sum()) > MAX_EDGES:
        raise UnknownName(f"nb101: {int(matrix.sum())} edges after pruning; at most {MAX_EDGES}")
    if labels[0] != INPUT_LABEL or labels[-1] != OUTPUT_LABEL:
        raise UnknownName("nb101: the first op must be input and the last output")
    if any(lab < 0 for lab in labels[1:-1]):
        raise UnknownName(f"nb101: inner ops must be {', '.join(OPS)}")
    return matrix, labels


def fingerprint(matrix: np.ndarray, labels: list[int]) -> str:
    """The nasbench hash of an already pruned cell (see the module docstring)."""
    n = matrix.shape[0]
    adj = np.asarray(matrix).astype(bool)
    outs = adj.sum(axis=1).tolist()
    ins = adj.sum(axis=0).tolist()
    md5 = hashlib.md5
    values = [md5(str((outs[v], ins[v], int(labels[v]))).encode()).hexdigest() for v in range(n)]
    preds = [np.flatnonzero(adj[:, v]).tolist() for v in range(n)]
    succs = [np.flatnonzero(adj[v]).tolist() for v in range(n)]
    for _ in range(n):
        values = [
            md5(
                (
                    "".join(sorted(values[w] for w in preds[v]))
                    + "|"
                    + "".join(sorted(values[w] for w in succs[v]))
                    + "|"
                    + values[v]
                ).encode()
            ).hexdigest()
            for v in range(n)
        ]
    return md5(str(sorted(values)).encode()).hexdigest()


def cell_hash(adjacency, ops) -> str:
    return fingerprint(*check_cell(adjacency, ops))


# -- the whole space ------------------------------------------------------------------------
@dataclass(frozen=True)
class Cells:
    """Every NB101 cell, sorted by hash; row i is the cell with ``arch_index`` i.

    ``edges`` packs the adjacency as bits (see :func:`edge_bit`), ``ops`` holds nasbench
    labels with PAD_LABEL past ``num_vertices``; the output vertex is ``num_vertices - 1``.
    """

    hashes: np.ndarray  # (N,) S32
    edges: np.ndarray  # (N,) uint32
    ops: np.ndarray  # (N, 7) int8
    num_vertices: np.ndarray  # (N,) int8

    def adjacency(self, rows=slice(None)) -> np.ndarray:
        """(n, 7, 7) int8 adjacency of the given rows."""
        codes = self.edges[rows].astype(np.int64)
        out = np.zeros((*codes.shape, MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
        for k, (i, j) in enumerate(_BIT_PAIRS):
            out[..., i, j] = (codes >> k) & 1
        return out

    def save(self, path: Path) -> None:
        """Write atomically: readers see the old file or the whole new one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    hashes=self.hashes,
                    edges=self.edges,
                    ops=self.ops,
                    num_vertices=self.num_vertices,
                )
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the cache from others
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> Cells | None:
        """The cached cells, or None when the file is missing or not a complete table."""
        try:
            with np.load(path, allow_pickle=False) as z:
                cells = cls(z["hashes"], z["edges"], z["ops"], z["num_vertices"])
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
            return None
        ok = (
            cells.hashes.shape == (NUM_CELLS,)
            and cells.hashes.dtype == np.dtype("S32")
            and cells.edges.shape == (NUM_CELLS,)
            and cells.ops.shape == (NUM_CELLS, MAX_VERTICES)
            and cells.num_vertices.shape == (NUM_CELLS,)
        )
        return cells if ok else None


def load_or_build(cache_dir: Path | str | None, workers: int | None = None) -> Cells:
    """Cells from ``cache_dir``'s cache file, enumerating and writing it on first use."""
    if cache_dir is None:
        return enumerate_cells(workers)
    path = Path(cache_dir) / CACHE_FILE
    cells = Cells.load(path)
    if cells is None:
        cells = enumerate_cells(workers)
        cells.save(path)
    return cells


def enumerate_cells(workers: int | None = None) -> Cells:
    """All 423,624 cells, one representative each, sorted by hash.

    ``workers`` processes share the hashing (default: up to 2 of the machine's cores); the
    representatives come from the isomorphism reduction, so the hashing is the only cost.
    """
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    jobs = []
    for nv in range(2, MAX_VERTICES + 1):
        codes, inner = iso_representatives(nv)
        parts = max(1, min(workers, len(codes) // 20_000))
        for c, i in zip(np.array_split(codes, parts), np.array_split(inner, parts), strict=True):
            jobs.append((nv, c, i))
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        # fork: the children need nothing from the caller's __main__, and spawn would re-run it
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            hexes = list(pool.map(_job, jobs))
    else:
        hexes = [_job(job) for job in jobs]

    hashes = np.concatenate([h.view("S32").ravel() for h in hexes])
    edges = np.concatenate([c for _, c, _ in jobs]).astype(np.uint32)
    nvs = np.concatenate([np.full(len(c), nv, np.int8) for nv, c, _ in jobs])
    ops = np.full((len(hashes), MAX_VERTICES), PAD_LABEL, dtype=np.int8)
    start = 0
    for nv, c, inner in jobs:
        rows = slice(start, start + len(c))
        ops[rows, 0] = INPUT_LABEL
        ops[rows, 1 : nv - 1] = inner
        ops[rows, nv - 1] = OUTPUT_LABEL
        start += len(c)
    order = np.argsort(hashes, kind="stable")
    hashes = hashes[order]
    # Non-isomorphic cells that the hash cannot tell apart are one entry in nasbench too.
    first = np.ones(len(hashes), dtype=bool)
    first[1:] = hashes[1:] != hashes[:-1]
    order = order[first]
    return Cells(hashes[first], edges[order], ops[order], nvs[order])


def _job(job) -> np.ndarray:
    nv, codes, inner = job
    return wl_hashes(nv, codes, inner)


def _pairs(nv: int) -> list[tuple[int, int]]:
    return _BIT_PAIRS[: nv * (nv - 1) // 2]


def full_dags(nv: int) -> np.ndarray:
    """Edge codes of every nv-vertex matrix with each vertex on an input->output path."""
    pairs = _pairs(nv)
    codes = np.arange(1 << len(pairs), dtype=np.int64)
    count = np.zeros(len(codes), dtype=np.int64)
    for k in range(len(pairs)):
        count += (codes >> k) & 1
    ok = count <= MAX_EDGES
    for v in range(nv):
        out_mask = sum(1 << k for k, (i, _) in enumerate(pairs) if i == v)
        in_mask = sum(1 << k for k, (_, j) in enumerate(pairs) if j == v)
        if v < nv - 1:
            ok &= (codes & out_mask) != 0
        if v > 0:
            ok &= (codes & in_mask) != 0
    return codes[ok]


def iso_representatives(nv: int) -> tuple[np.ndarray, np.ndarray]:
    """One (edge code, inner labels) per isomorphism class of nv-vertex labelled cells.

    Input and output are fixed by any isomorphism, so only the inner vertices permute; a
    graph is kept if its code is the least among its upper-triangular relabellings, and a
    labelling if its code is the least among its images under the graph's automorphisms.
    """
    codes = full_dags(nv)
    pairs = _pairs(nv)
    inner = nv - 2
    perms = [(0, *p, nv - 1) for p in itertools.permutations(range(1, nv - 1))]
    moved = np.zeros((len(perms), len(codes)), dtype=np.int64)
    valid = np.ones((len(perms), len(codes)), dtype=bool)
    for p, perm in enumerate(perms):
        backward = 0
        for k, (i, j) in enumerate(pairs):
            if perm[i] < perm[j]:
                moved[p] += ((codes >> k) & 1) << edge_bit(perm[i], perm[j])
            else:
                backward |= 1 << k
        valid[p] = (codes & backward) == 0
    least = np.where(valid, moved, np.iinfo(np.int64).max).min(axis=0)
    keep = least == codes
    codes = codes[keep]
    automorphic = valid[:, keep] & (moved[:, keep] == codes)

    products = list(itertools.product(range(len(OPS)), repeat=inner))
    labellings = np.array(products, dtype=np.int8).reshape(len(products), inner)
    weight = len(OPS) ** np.arange(inner - 1, -1, -1)
    # a labelling moved by perm puts vertex i's op at perm[i]: permute the place weights
    moved_weights = np.array([[weight[perm[i] - 1] for i in range(1, nv - 1)] for perm in perms])
    label_codes = labellings.astype(np.int64) @ moved_weights.reshape(len(perms), inner).T
    out_codes, out_labels = [], []
    for g, code in enumerate(codes):
        auts = np.flatnonzero(automorphic[:, g])
        canonical = label_codes[:, auts].min(axis=1) == label_codes[:, 0]
        out_codes.append(np.full(int(canonical.sum()), code))
        out_labels.append(labellings[canonical])
    return np.concatenate(out_codes), np.concatenate(out_labels)


_DIGEST = type(hashlib.md5()).digest


def _to_hex(digests: np.ndarray) -> np.ndarray:
    """(n, 16) raw md5 digests -> (n, 32) lowercase hex characters."""
    n = len(digests)
    out = np.empty((n, 16, 2), dtype=np.uint8)
    np.right_shift(digests, 4, out=out[..., 0])
    np.bitwise_and(digests, 15, out=out[..., 1])
    out = out.reshape(n, 32)
    out += 48 + 39 * (out > 9).view(np.uint8)  # '0'.. '9', then 'a'.. 'f'
    return out


def _md5_rows(messages: np.ndarray) -> np.ndarray:
    """md5 of every row of a (n, L) uint8 array, as (n, 16) raw digests.

    The per-row loop runs inside map/starmap, which keeps Python's overhead per message
    well below the md5 itself.
    """
    n, length = messages.shape
    if n == 0:
        return np.empty((0, 16), dtype=np.uint8)
    rows = struct.iter_unpack(f"{length}s", np.ascontiguousarray(messages).tobytes())
    digests = b"".join(map(_DIGEST, itertools.starmap(hashlib.md5, rows)))
    return np.frombuffer(digests, dtype=np.uint8).reshape(n, 16)


def _rank(digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each digest's position in hex order, and the hex table in that order.

    Positions stand in for the hex strings: sorting positions sorts the strings, which is
    what the hash needs for neighbour lists and for the final list.
    """
    words = digests.reshape(-1).view(">u8").reshape(-1, 2).astype(np.uint64)
    order = np.argsort(words[:, 0])
    high = words[order, 0]
    if (high[1:] == high[:-1]).any():  # equal first halves: let the second decide
        order = np.lexsort((words[:, 1], words[:, 0]))
    rank = np.empty(len(digests), dtype=np.int32)
    rank[order] = np.arange(len(digests), dtype=np.int32)
    return rank, _to_hex(digests[order])


def _first_of_groups(keys: np.ndarray, check: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Group ids of ``keys`` and one member of each; None if ``check`` splits a group."""
    import pandas as pd

    group, uniques = pd.factorize(keys)
    rep = np.empty(len(uniques), dtype=np.int64)
    rep[group] = np.arange(len(group))
    if not (check[rep][group] == check).all():
        return None
    return group, rep


def wl_hashes(nv: int, codes: np.ndarray, inner: np.ndarray, seed: int = 101) -> np.ndarray:
    """(n, 32) hex fingerprints of n cells with nv vertices, all hashed together.

    Each round, vertices whose (in-neighbours, out-neighbours, own value) agree need one
    md5 between them. They are grouped by a random 64-bit multiset sum and the grouping is
    confirmed by a second, independent one, so it is exact or the round draws again.
    Arrays are vertex-major ((nv, n) and flat index v * n + cell) to keep columns contiguous.
    """
    n = len(codes)
    pairs = _pairs(nv)
    edges = [((codes >> k) & 1).astype(bool) for k in range(len(pairs))]
    adj = np.zeros((nv, nv, n), dtype=bool)  # adj[i, j, cell]: edge i -> j
    for (i, j), e in zip(pairs, edges, strict=True):
        adj[i, j] = e
    labels = np.empty((nv, n), dtype=np.int64)
    labels[0], labels[-1] = INPUT_LABEL, OUTPUT_LABEL
    labels[1:-1] = np.asarray(inner, dtype=np.int64).T
    indeg = adj.sum(axis=0)
    outdeg = adj.sum(axis=1)

    start = ((outdeg * 8 + indeg) * 8 + labels - OUTPUT_LABEL).ravel()
    kinds, inverse = np.unique(start, return_inverse=True)
    texts = [str((int(k) // 64, int(k) // 8 % 8, int(k) % 8 + OUTPUT_LABEL)) for k in kinds]
    digests = np.frombuffer(
        b"".join(hashlib.md5(t.encode()).digest() for t in texts), dtype=np.uint8
    ).reshape(-1, 16)
    rank, table = _rank(digests)
    rank = rank[inverse.reshape(-1)].reshape(nv, n)

    rng = np.random.default_rng(seed)
    flat_in, flat_out = indeg.ravel(), outdeg.ravel()
    big = np.iinfo(np.int32).max
    zero = np.uint64(0)
    for _ in range(nv):
        grouped = None
        while grouped is None:
            keys = []
            for _twice in range(2):
                tabs = rng.integers(0, 2**64 - 1, size=(3, len(table)), dtype=np.uint64)
                pred, succ = tabs[0][rank], tabs[1][rank]
                key = tabs[2][rank]
                for (i, j), e in zip(pairs, edges, strict=True):
                    key[j] += np.where(e, pred[i], zero)
                    key[i] += np.where(e, succ[j], zero)
                keys.append(key.ravel())
            grouped = _first_of_groups(*keys)
        group, rep = grouped
        vert, cell = np.divmod(rep, n)
        neighbour = rank[:, cell].T  # (reps, nv)
        ins = np.sort(np.where(adj[:, vert, cell].T, neighbour, big), axis=1)
        outs = np.sort(np.where(adj[vert, :, cell], neighbour, big), axis=1)
        own = rank[vert, cell]
        shape = flat_in[rep] * 8 + flat_out[rep]
        digests = np.empty((len(rep), 16), dtype=np.uint8)
        for s in np.unique(shape):
            sel = np.flatnonzero(shape == s)
            k_in, k_out = divmod(int(s), 8)
            bar = np.full((len(sel), 1), _BAR, dtype=np.uint8)
            msg = np.concatenate(
                [
                    table[ins[sel, :k_in]].reshape(len(sel), -1),
                    bar,
                    table[outs[sel, :k_out]].reshape(len(sel), -1),
                    bar,
                    table[own[sel]],
                ],
                axis=1,
            )
            digests[sel] = _md5_rows(msg)
        new_rank, table = _rank(digests)
        rank = new_rank[group].reshape(nv, n)

    # "['h1', 'h2', ...]" with the values in sorted order
    items = table[np.sort(rank.T, axis=1)]  # (n, nv, 32)
    quote = np.full((n, nv, 1), ord("'"), dtype=np.uint8)
    sep = np.broadcast_to(np.frombuffer(b", ", dtype=np.uint8), (n, nv, 2))
    body = np.concatenate([quote, items, quote, sep], axis=2).reshape(n, -1)[:, :-2]
    msg = np.concatenate(
        [np.full((n, 1), ord("["), np.uint8), body, np.full((n, 1), ord("]"), np.uint8)], axis=1
    )
    return _to_hex(_md5_rows(msg))
