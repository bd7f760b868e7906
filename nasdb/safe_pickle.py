"""Restricted unpicklers: a pickle may only name the classes its format needs.

Upstream benchmarks ship as pickles; an arbitrary pickle can run any code on load, so
each format states an allow-list and anything else is refused with a clear error.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from nasdb.errors import IngestError

# Names a pandas DataFrame pickle of plain numeric/object columns uses (pandas 1.x-3.x).
PANDAS_FRAME = frozenset(
    {
        "pandas.core.frame.DataFrame",
        "pandas.core.internals.managers.BlockManager",
        "pandas.core.internals.blocks.new_block",
        "pandas.core.indexes.base._new_Index",
        "pandas.core.indexes.base.Index",
        "pandas.core.indexes.range.RangeIndex",
        "pandas.core.indexes.numeric.Int64Index",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
        "numpy.ndarray",
        "numpy.dtype",
        "builtins.slice",
        "functools.partial",
    }
)
# Plain containers holding numpy scalars.
NUMPY_SCALARS = frozenset(
    {
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "numpy.dtype",
    }
)

# Plain numpy arrays as numpy pickles them (protocol 2 writes their bytes via _codecs).
NUMPY_ARRAYS = frozenset(
    {
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.ndarray",
        "numpy.dtype",
        "_codecs.encode",
    }
)


class Record:
    """Stand-in for an upstream class whose instances only carry attributes."""

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def _refuse(path: Path, module: str, name: str) -> IngestError:
    return IngestError(f"{path}: pickle asks for {module}.{name}, which this format does not allow")


def _make_unpickler(base: type, path: Path, allowed: frozenset[str], records: Mapping[str, type]):
    class Restricted(base):
        def find_class(self, module: str, name: str) -> Any:
            key = f"{module}.{name}"
            if key in records:
                return records[key]
            if key not in allowed:
                raise _refuse(path, module, name)
            return super().find_class(module, name)

        def persistent_load(self, pid: Any) -> Any:
            raise IngestError(f"{path}: pickle refers to external storage {pid!r}, not allowed")

    return Restricted


def loads(
    data: bytes,
    path: Path,
    allowed: frozenset[str] = frozenset(),
    records: Mapping[str, type] | None = None,
    pandas_compat: bool = False,
    encoding: str = "ASCII",
) -> Any:
    """Unpickle ``data`` read from ``path``; ``records`` maps upstream classes to local ones.

    ``encoding="latin1"`` reads Python 2 pickles (CIFAR batches, Planetoid files).
    """
    return load_stream(io.BytesIO(data), path, allowed, records, pandas_compat, encoding)


def load_stream(
    stream: BinaryIO,
    path: Path,
    allowed: frozenset[str] = frozenset(),
    records: Mapping[str, type] | None = None,
    pandas_compat: bool = False,
    encoding: str = "ASCII",
) -> Any:
    """Unpickle the next pickle of an open binary stream, as :func:`loads` does.

    For formats that hold several pickles in a row, and for files too large to read
    into memory first.
    """
    if pandas_compat:
        from pandas.compat.pickle_compat import Unpickler as base
    else:
        base = pickle.Unpickler
    cls = _make_unpickler(base, path, allowed, records or {})
    try:
        return cls(stream, encoding=encoding).load()
    except IngestError:
        raise
    except Exception as exc:  # truncated or corrupt bytes surface as many exception types
        raise IngestError(f"{path}: not a readable pickle ({type(exc).__name__}: {exc})") from None


def read_bytes(path: Path, opener: Callable[[Path], bytes] | None = None) -> bytes:
    try:
        return opener(path) if opener else path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: file not found") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read ({exc})") from None


def load_torch_plain(path: Path, allowed: frozenset[str] = frozenset()) -> Any:
    """Read a torch zip file that holds only plain Python objects, without torch.

    ``allowed`` lists the globals its pickle may name (e.g. NUMPY_ARRAYS); none by default.
    Every failure is an ``IngestError`` naming the file, so callers need no catch-all.
    """
    raw = read_bytes(path)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            member = next((n for n in zf.namelist() if n.endswith("/data.pkl")), None)
            if member is None:
                raise IngestError(f"{path}: torch file without data.pkl")
            data = zf.read(member)
    except (zipfile.BadZipFile, EOFError, ValueError, zipfile.LargeZipFile) as exc:
        raise IngestError(f"{path}: not a torch zip file ({exc})") from None
    except IngestError:
        raise
    except Exception as exc:  # a damaged member: zlib.error, or NotImplementedError
        raise IngestError(f"{path}: not a readable torch file ({type(exc).__name__})") from None
    return loads(data, path, allowed)
