"""Synthetic thermograms with known temperatures, built by the tests themselves."""

from __future__ import annotations

import io

import numpy as np

WIDTH, HEIGHT = 64, 48
MIDLINE = 32
BACKGROUND_C = 24.0


def body(left_c: float = 31.0, right_c: float = 32.5) -> np.ndarray:
    """Background at 24 degC; image-left block [8, 16) x [10, 30) at left_c and its mirror
    across x = 32, [48, 56) x [10, 30), at right_c."""
    matrix = np.full((HEIGHT, WIDTH), BACKGROUND_C)
    matrix[10:30, 8:16] = left_c
    matrix[10:30, 48:56] = right_c
    return matrix


def csv_bytes(matrix: np.ndarray, *, separator: str = ",", decimal: str = ".", header: tuple[str, ...] = ()) -> bytes:
    lines = list(header)
    for row in matrix:
        lines.append(separator.join(f"{value:.2f}".replace(".", decimal) for value in row))
    return ("\r\n".join(lines) + "\r\n").encode()


def tiff_bytes(matrix: np.ndarray, *, centi_kelvin: bool = True) -> bytes:
    from PIL import Image

    raw = np.round((matrix + 273.15) * 100).astype(np.uint16) if centi_kelvin else matrix.astype(np.uint16)
    out = io.BytesIO()
    Image.fromarray(raw).save(out, format="TIFF")
    return out.getvalue()
