"""Relations to text or files for the CLI: aligned tables, CSV, JSON, Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nasdb.errors import NasdbError

FORMATS = ("table", "csv", "json", "parquet")


def write(rel, fmt: str, output: Path | None) -> None:
    """Fetch ``rel`` and write it; a query that fails while its rows are fetched (a cast
    of a bad value, say) is one error line and writes nothing."""
    if rel is None:
        return
    import duckdb

    try:
        _write(rel, fmt, output)
    except duckdb.Error as exc:
        raise NasdbError(f"SQL error: {str(exc).splitlines()[0]}") from None


def _write(rel, fmt: str, output: Path | None) -> None:
    if fmt == "parquet":
        if output is None:
            raise NasdbError("--format parquet needs --output FILE")
        import pyarrow.parquet as pq

        pq.write_table(rel.to_arrow_table(), output)
        return
    if fmt == "table":
        text = table(rel.columns, rel.fetchall())
    elif fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(rel.columns)
        writer.writerows(rel.fetchall())
        text = buf.getvalue()
    else:
        records = [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
        text = json.dumps(records, default=str, indent=1) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)


def table(columns: list[str], rows: list[tuple], limit: int = 1000) -> str:
    def fmt(v) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, float):
            return f"{v:.6g}"
        return str(v)

    cells = [[fmt(v) for v in r] for r in rows[:limit]]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows (use --format csv or --output)")
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"
