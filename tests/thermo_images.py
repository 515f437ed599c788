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


# Planck constants of a FLIR E-series camera; with emissivity 1, distance 0 and a window
# transmission of 1 the camera's conversion reduces to T = B / ln(R1 / (R2 * (raw + O)) + F).
PLANCK = {"r1": 21106.77, "r2": 0.012545258, "b": 1501.0, "f": 1.0, "o": -7340}


def flir_raw(matrix_c: np.ndarray) -> np.ndarray:
    kelvin = matrix_c + 273.15
    raw = PLANCK["r1"] / (PLANCK["r2"] * (np.exp(PLANCK["b"] / kelvin) - PLANCK["f"])) - PLANCK["o"]
    return np.round(raw).astype(np.uint16)


def _camera_info() -> bytes:
    import struct

    info = bytearray(1024)

    def put(offset: int, fmt: str, value: float) -> None:
        struct.pack_into("<" + fmt, info, offset, value)

    # emissivity, object distance (m), reflected, atmosphere, IR window temperature (K), window transmission
    for offset, value in zip(range(32, 56, 4), (1.0, 0.0, 293.15, 293.15, 293.15, 1.0), strict=True):
        put(offset, "f", value)
    put(60, "f", 0.5)  # relative humidity
    put(88, "f", PLANCK["r1"])
    put(92, "f", PLANCK["b"])
    put(96, "f", PLANCK["f"])
    for offset, value in zip(range(112, 132, 4), (0.006569, 0.01262, -0.002276, -0.00667, 1.9), strict=True):
        put(offset, "f", value)
    put(776, "i", PLANCK["o"])
    put(780, "f", PLANCK["r2"])
    return bytes(info)


def fff_bytes(matrix_c: np.ndarray, *, png: bool = False) -> bytes:
    """The FFF record layout FLIR cameras embed: a 64-byte header, a record directory, a
    RawData record (little-endian 16-bit counts after a 32-byte header) and CameraInfo."""
    import struct

    height, width = matrix_c.shape
    counts = flir_raw(matrix_c)
    if png:
        # Cameras that store a PNG store its 16-bit samples byte-swapped.
        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(counts.byteswap()).save(out, format="PNG")
        raw = out.getvalue()
    else:
        raw = counts.astype("<u2").tobytes()
    raw_record = struct.pack("<HHH", 2, width, height).ljust(32, b"\x00") + raw
    camera = _camera_info()
    directory_offset, entries = 0x40, 2
    raw_offset = directory_offset + 32 * entries
    camera_offset = raw_offset + len(raw_record)
    header = b"FFF\x00" + b"\x00" * 16 + struct.pack(">III", 100, directory_offset, entries + 2)
    header = header.ljust(0x40, b"\x00")

    def entry(record_type: int, subtype: int, offset: int, length: int) -> bytes:
        return struct.pack(">HHIIIIIII", record_type, subtype, 0x64, 1, offset, length, 0, 0, 0)

    directory = entry(1, 3 if png else 2, raw_offset, len(raw_record)) + entry(32, 1, camera_offset, len(camera))
    return header + directory + raw_record + camera


def flir_jpeg_bytes(matrix_c: np.ndarray, *, png: bool = False) -> bytes:
    """A JPEG photo carrying the FFF data in "FLIR" APP1 segments, as FLIR cameras save it."""
    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 90, 90)).save(photo, format="JPEG")
    jpeg = photo.getvalue()
    fff = fff_bytes(matrix_c, png=png)
    size = 65000
    chunks = [fff[i : i + size] for i in range(0, len(fff), size)]
    segments = b""
    for number, chunk in enumerate(chunks):
        payload = b"FLIR\x00\x01" + bytes([number, len(chunks) - 1]) + chunk
        segments += b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segments + jpeg[2:]


# A posterior view of the lower back and legs, 320 x 240, midline at x = 160: the patient's
# left leg (image left, as a camera behind the patient sees it) with a cooler lateral lower
# leg, the right leg warmer, the lower back at 32.5 degC and the floor below the feet at 14 degC
# (colder than skin: a region there is refused).
LEGS_WIDTH, LEGS_HEIGHT, LEGS_MIDLINE = 320, 240, 160
LEGS_COOL_PATCH = (48, 130, 40, 90)  # x, y, w, h of the cooler lateral lower leg (image left)
LEGS_INNER = (104, 130, 36, 90)  # a uniform medial lower-leg area of the image-left leg
LEGS_FLOOR_Y = 232


def legs(left_c: float = 31.0, cool_c: float = 30.0, right_c: float = 32.2) -> np.ndarray:
    matrix = np.full((LEGS_HEIGHT, LEGS_WIDTH), 23.0)
    matrix[:60, 40:280] = 32.5  # lower back
    for x0, x1, temperature in ((40, 146, left_c), (174, 280, right_c)):
        matrix[60:LEGS_FLOOR_Y, x0:x1] = temperature
        # a cooler rim where the skin turns away from the camera
        matrix[60:LEGS_FLOOR_Y, x0 : x0 + 3] -= 1.5
        matrix[60:LEGS_FLOOR_Y, x1 - 3 : x1] -= 1.5
    x, y, w, h = LEGS_COOL_PATCH
    matrix[y : y + h, x : x + w] = cool_c
    matrix[:60, 158:162] = 33.2  # the spine runs warmer
    matrix[LEGS_FLOOR_Y:, :] = 14.0
    return matrix
