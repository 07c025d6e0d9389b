"""Parquet files: rows row group by row group, a corrupt group costing its rows, not the file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from filters.records import RawRecord
from flows.sources.reading import row_record

MAX_CLAIMED_ERROR_ROWS = 1_000_000  # a corrupt Parquet row group claiming more rows counts as one error


def iter_parquet(stream: BinaryIO, text_field: str, limit: int) -> Iterator[RawRecord]:
    """Rows row group by row group; a row group that cannot be read costs its rows, not the file."""
    try:
        parquet = pq.ParquetFile(stream)
        meta = parquet.metadata
        names = parquet.schema_arrow.names
    except Exception:  # noqa: BLE001 - pyarrow raises many types on hostile bytes; all mean "not readable"
        yield RawRecord(0, error="corrupt_parquet")
        return
    columns = [c for c in ("id", text_field, "url", "metadata") if c in names]
    index = -1
    seen_ids: set[int] = set()
    for group in range(parquet.num_row_groups):
        done = claimed = 0
        try:
            claimed = meta.row_group(group).num_rows
            if text_field not in names:
                rows = parquet.read_row_group(group, columns=names[:1]).num_rows if names else 0
                for _ in range(rows):
                    index += 1
                    done += 1
                    yield RawRecord(index, error="missing_text")
                continue
            for batch in parquet.iter_batches(batch_size=256, row_groups=[group], columns=columns):
                for row in _batch_rows(batch):
                    index += 1
                    done += 1
                    yield row_record(row, index, text_field, limit, seen_ids)
        except Exception:  # noqa: BLE001 - as above: a corrupt page, a bad encoding, a lying footer
            missing = claimed - done if claimed > done else int(done == 0)
            for _ in range(missing if missing <= MAX_CLAIMED_ERROR_ROWS else 1):
                index += 1
                yield RawRecord(index, error="corrupt_parquet")


def _batch_rows(batch: pa.RecordBatch) -> list[dict]:
    """Rows as dicts; strings with invalid UTF-8 are decoded with replacement instead of failing."""
    columns: dict[str, list] = {}
    for name, column in zip(batch.schema.names, batch.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            binary = pa.binary() if pa.types.is_string(column.type) else pa.large_binary()
            columns[name] = [None if v is None else v.decode("utf-8", errors="replace")
                             for v in column.view(binary).to_pylist()]
        else:
            columns[name] = column.to_pylist()
    return [dict(zip(columns, values)) for values in zip(*columns.values())] if columns else []
