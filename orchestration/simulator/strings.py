"""Vectorised string building over Arrow arrays (ids, JSON fragments), so no per-row Python runs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def padded(numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal strings of non-negative integers."""
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and scalar strings."""
    return pc.binary_join_element_wise(*parts, "")


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids like u0000001 from integers."""
    return concat(prefix, padded(numbers, width))


def decimal_amounts(cents: np.ndarray) -> pa.Array:
    """Exact two-decimal strings ('63.50', '-7.05') from integer cents."""
    cents = np.asarray(cents, dtype=np.int64)
    sign = pc.if_else(pa.array(cents < 0), "-", "")
    absolute = np.abs(cents)
    return concat(sign, pc.cast(pa.array(absolute // 100), pa.string()), ".", padded(absolute % 100, 2))


def lookup(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """Strings chosen by integer codes from a small vocabulary."""
    return pc.take(pa.array(list(values), pa.string()), pa.array(np.asarray(codes, dtype=np.int32)))



def digit_strings(numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimals as a fixed-width bytes array (dtype S<width>), via 4-digit lookup tables."""
    remaining = np.asarray(numbers, dtype=np.int64)
    if remaining.size and (remaining.min() < 0 or remaining.max() >= 10**width):
        raise ValueError(f"numbers do not fit in {width} digits")
    chunks: list[np.ndarray] = []
    left = width
    while left > 0:
        size = min(4, left)
        remaining, chunk = np.divmod(remaining, 10**size)
        chunks.append(_table(size)[chunk])
        left -= size
    return join_fixed(chunks[::-1], as_arrow=False)


def join_fixed(parts: list[np.ndarray | bytes], as_arrow: bool = True) -> pa.Array | np.ndarray:
    """Concatenate fixed-width byte parts (arrays of equal length or broadcast constants) row by row.

    The rows are laid out in one packed record array that Arrow adopts as its data buffer, so building
    millions of ids or JSON snippets costs a few strided copies rather than per-row work.
    """
    arrays = [p for p in parts if isinstance(p, np.ndarray)]
    n = len(arrays[0]) if arrays else 1
    fields = [(f"f{i}", f"S{p.dtype.itemsize if isinstance(p, np.ndarray) else len(p)}") for i, p in enumerate(parts)]
    record = np.empty(n, dtype=fields)
    for (name, _), part in zip(fields, parts, strict=True):
        record[name] = part
    width = record.dtype.itemsize
    if not as_arrow:
        return record.view(f"S{width}")
    if n * width >= 2**31:
        raise ValueError("too many rows for one Arrow string array")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(record.view(np.uint8))])


def sequential_ids(prefix: str, first: int, count: int, width: int) -> pa.Array:
    """Ids prefix + zero-padded first .. first+count-1; the low digits repeat, so they are tiled, not computed."""
    if width <= 4 or count == 0:
        return join_fixed([prefix.encode(), digit_strings(np.arange(first, first + count), width)])
    low_table = _table(4)
    start_block, end_block = first // 10_000, (first + count - 1) // 10_000
    blocks = np.arange(start_block, end_block + 1)
    low = np.tile(low_table, len(blocks))[first % 10_000:first % 10_000 + count]
    high = np.repeat(digit_strings(blocks, width - 4), 10_000)[first % 10_000:first % 10_000 + count]
    return join_fixed([prefix.encode(), high, low])


_TABLES: dict[int, np.ndarray] = {}


def _table(width: int) -> np.ndarray:
    """All zero-padded numbers of a width (<= 4) as bytes."""
    if width not in _TABLES:
        numbers = np.arange(10**width)
        digits = np.stack([(numbers // 10**k) % 10 for k in range(width - 1, -1, -1)], axis=1) + 48
        _TABLES[width] = np.ascontiguousarray(digits.astype(np.uint8)).view(f"S{width}").ravel()
    return _TABLES[width]
