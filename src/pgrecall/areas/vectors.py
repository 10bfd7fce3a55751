"""The vector checks every area that takes vectors shares (embeddings, search, memories).

Each raises :class:`pgrecall.ValidationError` naming the parameter before any SQL: the
declared dimension, finite float32 values, a norm cosine distance can use (see
:func:`pgrecall.areas.validate.check_norm`), one vector being 1-D; and the checks of the
other chunk fields (content, ids, owners).
"""

from __future__ import annotations

import math
import operator
from array import array
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

from pgvector import Vector

from ..errors import ValidationError
from .validate import (
    NORM_SQ_MAX,
    NORM_SQ_MIN,
    as_uuid,
    check_key,
    check_norm,
    check_number,
    check_text,
    opt_uuid,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "MAX_CHUNK",
    "MAX_DIMENSIONS",
    "VectorLike",
    "check_chunk_ids",
    "check_chunk_index",
    "check_content",
    "check_dimensions",
    "check_model_name",
    "check_owners",
    "check_unit",
    "check_vector",
    "check_vectors",
]

VectorLike: TypeAlias = "Sequence[float] | npt.NDArray[np.floating[Any]] | Vector"

MAX_DIMENSIONS = 16_000  # pgvector's limit for the vector type
MAX_CHUNK = 1_000_000  # characters of chunk content


def check_dimensions(dims: int) -> int:
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= MAX_DIMENSIONS:
        raise ValidationError(f"dimensions must be an integer between 1 and {MAX_DIMENSIONS}")
    return dims


def _is_ndarray(value: object) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "ndim")


def _check_floats(values: array[float], dims: int, what: str) -> None:
    if len(values) != dims:
        raise ValidationError(f"{what} has {len(values)} dimensions, the model declares {dims}")
    # The float32 values summed as doubles cannot overflow: a non-finite sum means a
    # NaN or an infinity (also from a value too large for float32).
    if not math.isfinite(sum(values)):
        raise ValidationError(f"{what} contains NaN or infinity (or a value beyond float32)")
    check_norm(sum(map(operator.mul, values, values)), what)  # zero, under- or overflow


def check_vector(value: VectorLike, dims: int, what: str = "embedding") -> Vector:
    """A float32 vector of exactly ``dims`` finite values, not all zero."""
    if isinstance(value, Vector):
        values = array("f", value.to_list())
    elif _is_ndarray(value):
        ndim = getattr(value, "ndim", 0)
        if ndim != 1:
            raise ValidationError(f"{what} must be a 1-D array (one vector), not {ndim}-D")
        return _check_array(value, dims, what)[0]
    elif isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValidationError(f"{what} must be a sequence of floats, not {type(value).__name__}")
    else:
        try:
            values = array("f", value)
        except (TypeError, OverflowError):
            raise ValidationError(f"{what} must contain only numbers") from None
    _check_floats(values, dims, what)
    return Vector(values.tolist())


def _check_array(value: Any, dims: int, what: str) -> list[Vector]:
    """A numpy array (1-D: one vector, 2-D: one per row), checked in bulk."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        try:
            arr = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise ValidationError(f"{what} must contain only numbers") from None
    rows = arr.reshape(1, -1) if arr.ndim == 1 else arr
    if rows.ndim != 2:
        raise ValidationError(f"{what} must be a 1-D or 2-D array, not {arr.ndim}-D")
    if rows.shape[1] != dims:
        raise ValidationError(f"{what} has {rows.shape[1]} dimensions, the model declares {dims}")
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise ValidationError(f"{what}[{bad}] contains NaN or infinity (or a value beyond float32)")
    squared = np.einsum("ij,ij->i", rows, rows, dtype=np.float64)
    sane = (squared >= NORM_SQ_MIN) & (squared <= NORM_SQ_MAX)
    if not sane.all():
        bad = int(np.argmin(sane))
        check_norm(float(squared[bad]), what if arr.ndim == 1 else f"{what}[{bad}]")
    return [Vector(row) for row in rows]


def check_vectors(values: Sequence[VectorLike] | Any, dims: int, what: str) -> list[Vector]:
    """Many vectors: a 2-D numpy array or a sequence of vectors."""
    if _is_ndarray(values):
        if getattr(values, "ndim", 0) != 2:
            raise ValidationError(f"{what} must be a 2-D array (one row per vector)")
        return _check_array(values, dims, what)
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValidationError(f"{what} must be a sequence of vectors or a 2-D array")
    return [check_vector(v, dims, f"{what}[{i}]") for i, v in enumerate(values)]


def check_unit(value: float, what: str, *, maximum: float = 1.0) -> float:
    """A finite number in ``0..maximum`` (importance, weights)."""
    return check_number(value, what, minimum=0.0, maximum=maximum)


def check_model_name(name: str) -> str:
    return check_key(name, "model")


def check_chunk_ids(ids: Sequence[UUID | str]) -> list[UUID]:
    """Chunk ids given to add_many: UUIDs, each once (one statement cannot write a row twice)."""
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
        raise ValidationError("ids must be a sequence of UUIDs")
    found = [as_uuid(i, "ids") for i in ids]
    if len(set(found)) != len(found):
        dup = next(u for u, count in Counter(found).items() if count > 1)
        raise ValidationError(f"ids holds {dup} more than once")
    return found


def check_content(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text")
    return check_text(value, what, max_len=MAX_CHUNK)


def check_chunk_index(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ValidationError(f"{what} must be an integer between 0 and {2**31 - 1}")
    return value


def check_owners(
    document_id: UUID | str | None, analysis_id: UUID | str | None, memory_id: UUID | str | None
) -> dict[str, UUID | None]:
    owners = dict(
        document_id=opt_uuid(document_id, "document_id"),
        analysis_id=opt_uuid(analysis_id, "analysis_id"),
        memory_id=opt_uuid(memory_id, "memory_id"),
    )
    if owners["memory_id"] and (owners["document_id"] or owners["analysis_id"]):
        raise ValidationError("a chunk of a memory belongs to no document or analysis")
    return owners
