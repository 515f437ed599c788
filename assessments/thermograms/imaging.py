"""Radiometric thermograms: read the camera's temperature matrix, measure mirrored regions,
render a false-colour picture. Pure: bytes and arrays in, arrays and dataclasses out.

Formats read (:func:`read_matrix`):

- a temperature matrix as text, as FLIR Tools, FLIR Research Studio and InfraTec IRBIS
  export it: degC per pixel, one image row per line, separated by comma, semicolon or tab,
  with a decimal point or (with semicolon or tab separators) a decimal comma; header lines
  before the matrix are skipped;
- a 16-bit radiometric TIFF, in centi-kelvin unless a scale is given (degC = raw * scale +
  offset), or a 32-bit float TIFF holding degC;
- a FLIR radiometric JPEG: the raw sensor values in the FFF records of its APP1 segments,
  turned into degC with the camera's Planck constants, emissivity, distance and atmosphere
  as recorded by the camera (read with ``flyr``, a pure-Python FLIR reader).

Regions of interest are mirrored across a vertical midline (:func:`mirrored_statistics`):
clinics compare a region with the same region on the other side of the body (Ring EF,
Ammer K. Infrared thermal imaging in medicine. Physiol Meas 2012;33(3):R33-46).
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]

# A thermal camera's frame: the largest radiometric cameras in clinical use are 1280 x 1024;
# 4 megapixels leave room for 2048 x 1536 sensors without letting a crafted file exhaust memory.
MAX_PIXELS = 4_000_000
MIN_SIDE = 8
# The matrix may show the room and the couch as well as skin; values outside this range are
# not a temperature in degC (typically kelvin, degF or raw counts).
PLAUSIBLE_MIN_C = -40.0
PLAUSIBLE_MAX_C = 150.0
MAX_HEADER_LINES = 64
KELVIN = 273.15
CENTI_KELVIN_SCALE = 0.01
CENTI_KELVIN_OFFSET = -KELVIN

NOT_RADIOMETRIC_JPEG = (
    "The JPEG holds no FLIR radiometric data (an ordinary photo, or a FLIR picture saved without "
    "its thermal data): upload the camera's original radiometric JPEG or export the temperature matrix as CSV."
)


class ThermogramError(ValueError):
    """The file cannot be read as a thermogram; the message says why, for the user."""


@dataclass(frozen=True)
class ParsedThermogram:
    kind: str  # "csv" | "tiff" | "flir"
    matrix: Matrix  # degC, shape (height, width)

    @property
    def width(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def height(self) -> int:
        return int(self.matrix.shape[0])


def sniff(data: bytes) -> str:
    """The file's kind from its first bytes: "jpeg", "tiff", "text" or "unknown"."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    head = data[:4096]
    if b"\x00" in head:
        return "unknown"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 4096th byte is still text.
        if exc.start < len(head) - 3:
            return "unknown"
    return "text"


def read_matrix(data: bytes, *, scale: float | None = None, offset: float | None = None) -> ParsedThermogram:
    """Read an uploaded file into a degC matrix, or raise :class:`ThermogramError`."""
    if not data:
        raise ThermogramError("The file is empty.")
    kind = sniff(data)
    if kind == "jpeg":
        if scale is not None or offset is not None:
            raise ThermogramError("A FLIR JPEG carries its own calibration; scale and offset apply to TIFF images.")
        matrix = _read_flir_jpeg(data)
    elif kind == "tiff":
        matrix = _read_tiff(data, scale, offset)
    elif kind == "text":
        if scale is not None or offset is not None:
            raise ThermogramError("A scale and offset apply to TIFF images only; a CSV matrix is in degC.")
        matrix = _read_csv(data)
    else:
        raise ThermogramError("Unknown file type: upload a temperature matrix (CSV) or a 16-bit radiometric TIFF.")
    _check_matrix(matrix)
    return ParsedThermogram(kind={"jpeg": "flir", "tiff": "tiff"}.get(kind, "csv"), matrix=matrix)


def _check_size(width: int, height: int) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ThermogramError(f"The image is {width} x {height} pixels; at least {MIN_SIDE} x {MIN_SIDE} are needed.")
    if width * height > MAX_PIXELS:
        raise ThermogramError(
            f"The image is {width} x {height} = {width * height} pixels; at most {MAX_PIXELS} are accepted."
        )


def _check_matrix(matrix: Matrix) -> None:
    height, width = matrix.shape
    _check_size(width, height)
    finite = np.isfinite(matrix)
    if not finite.all():
        row, column = (int(i) for i in np.argwhere(~finite)[0])
        raise ThermogramError(
            f"The matrix holds a value that is not a number (NaN or infinity) at row {row + 1}, column {column + 1}."
        )
    low, high = float(matrix.min()), float(matrix.max())
    if low < PLAUSIBLE_MIN_C or high > PLAUSIBLE_MAX_C:
        bad = matrix[(matrix < PLAUSIBLE_MIN_C) | (matrix > PLAUSIBLE_MAX_C)]
        row, column = (int(i) for i in np.argwhere(matrix == bad[0])[0])
        raise ThermogramError(
            f"Temperature {float(bad[0]):g} at row {row + 1}, column {column + 1} is not plausible: the matrix must "
            f"hold degC between {PLAUSIBLE_MIN_C:g} and {PLAUSIBLE_MAX_C:g} (is it in kelvin, degF or raw counts?)."
        )


_SEPARATORS = (";", "\t", ",")
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(nan|inf|infinity)\s*$", re.I)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if not data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-16",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ThermogramError("The text file is not UTF-8: save the CSV export as UTF-8.")


def _cells(line: str, separator: str) -> list[str]:
    cells = line.split(separator)
    if cells and not cells[-1].strip():
        cells.pop()  # a trailing separator at the end of each row
    return cells


def _numeric_row(line: str, separator: str) -> bool:
    cells = _cells(line, separator)
    return len(cells) >= MIN_SIDE and all(_NUMBER.match(cell) for cell in cells)


def _read_csv(data: bytes) -> Matrix:
    # (line number in the file, text) of every line that is not blank
    lines = [(number, line) for number, line in enumerate(_decode(data).splitlines(), start=1) if line.strip()]
    start, separator = _matrix_start([line for _number, line in lines])
    width_guess = len(_cells(lines[start][1], separator))
    for number, line in lines[:start]:
        cells = _cells(line, separator)
        # A header line is text; a row of numbers with one bad cell is a damaged matrix row.
        if len(cells) == width_guess and sum(bool(_NUMBER.match(c)) for c in cells) >= 0.9 * len(cells):
            bad = next(c for c in cells if not _NUMBER.match(c))
            raise ThermogramError(f"Line {number} of the file holds {bad.strip()[:40]!r}, which is not a number.")
    decimal_comma = separator != "," and any("," in line for _number, line in lines[start : start + 3])
    rows: list[npt.NDArray[np.float64]] = []
    width = 0
    for number, line in lines[start:]:
        text = line.replace(",", ".") if decimal_comma else line
        cells = _cells(text, separator)
        try:
            row = np.array(cells, dtype=np.float64)
        except ValueError:
            bad = next((c for c in cells if not _NUMBER.match(c)), "")
            raise ThermogramError(
                f"Line {number} of the file holds {bad.strip()[:40]!r}, which is not a number."
            ) from None
        if not rows:
            width = row.size
        elif row.size != width:
            raise ThermogramError(
                f"Line {number} of the file has {row.size} values; the matrix rows above have {width}."
            )
        rows.append(row)
        if len(rows) * width > MAX_PIXELS:
            raise ThermogramError(f"The matrix has more than {MAX_PIXELS} pixels; at most {MAX_PIXELS} are accepted.")
    return np.vstack(rows)


def _matrix_start(lines: list[str]) -> tuple[int, str]:
    for index, line in enumerate(lines[: MAX_HEADER_LINES + 1]):
        for separator in _SEPARATORS:
            if separator in line and _numeric_row(line, separator):
                return index, separator
    raise ThermogramError(
        f"No temperature matrix found: expected rows of at least {MIN_SIDE} numbers separated by comma, semicolon "
        f"or tab, after at most {MAX_HEADER_LINES} header lines."
    )


def _read_flir_jpeg(data: bytes) -> Matrix:
    """The camera's raw counts, decoded here with numpy (flyr's own decoder loops in Python),
    and flyr's conversion to temperature with the camera's recorded calibration."""
    from flyr.records import RecordIndex, extract_flir_app1, parse_flir_records  # type: ignore[import-untyped]
    from flyr.thermal import parse_camera_info  # type: ignore[import-untyped]
    from flyr.thermogram import FlyrThermogram  # type: ignore[import-untyped]

    if b"FLIR\x00" not in data[:0x20000]:
        raise ThermogramError(NOT_RADIOMETRIC_JPEG)
    try:
        app1 = extract_flir_app1(io.BytesIO(data))
        records = parse_flir_records(app1)
        raw_record = records.get(RecordIndex.RAW_DATA.value)
        camera_record = records.get(RecordIndex.CAMERA_INFO.value)
        if raw_record is None or camera_record is None:
            raise ThermogramError(NOT_RADIOMETRIC_JPEG)
        raw = _flir_raw_counts(app1, raw_record[2], raw_record[3])
        celsius = FlyrThermogram(raw, parse_camera_info(app1, camera_record)).celsius
    except ThermogramError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of the reader on untrusted bytes is a damaged file
        raise ThermogramError(f"The FLIR JPEG is truncated or corrupt ({type(exc).__name__}: {exc}).") from None
    return np.asarray(celsius, dtype=np.float64)


def _flir_raw_counts(app1: io.BytesIO, offset: int, length: int) -> npt.NDArray[np.uint16]:
    # RawData record: 2 bytes, width and height (little-endian 16 bit), the counts at +32
    # as little-endian 16 bit or as a PNG whose samples are byte-swapped.
    app1.seek(offset + 2)
    header = app1.read(4)
    if len(header) < 4:
        raise ThermogramError("The FLIR JPEG is truncated (its thermal data ends early).")
    width, height = int.from_bytes(header[:2], "little"), int.from_bytes(header[2:], "little")
    _check_size(width, height)
    app1.seek(offset + 32)
    payload = app1.read(max(0, length - 32))
    if payload[:4] == b"\x89PNG":
        from PIL import Image

        with Image.open(io.BytesIO(payload)) as image:
            if image.size != (width, height):
                raise ThermogramError("The FLIR JPEG's thermal image does not match its stated size.")
            counts = np.asarray(image).astype(np.uint16).byteswap()
    else:
        if len(payload) < width * height * 2:
            raise ThermogramError("The FLIR JPEG is truncated (its thermal data ends early).")
        counts = np.frombuffer(payload[: width * height * 2], dtype="<u2").reshape(height, width).astype(np.uint16)
    return counts


def _read_tiff(data: bytes, scale: float | None, offset: float | None) -> Matrix:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            _check_size(width, height)
            mode = image.mode
            if mode not in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
                raise ThermogramError(
                    f"The TIFF is a {mode!r} picture, not radiometric data: export the 16-bit radiometric TIFF "
                    "or the temperature matrix as CSV."
                )
            image.load()
            raw = np.asarray(image)
    except ThermogramError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ThermogramError(f"The TIFF is truncated or corrupt ({exc}).") from None
    if raw.shape != (height, width):
        raise ThermogramError("The TIFF must hold one channel of temperatures.")
    if mode == "F":
        if scale is not None or offset is not None:
            raise ThermogramError("A floating-point TIFF holds degC; scale and offset apply to integer TIFFs.")
        return raw.astype(np.float64)
    use_scale = CENTI_KELVIN_SCALE if scale is None else scale
    use_offset = CENTI_KELVIN_OFFSET if offset is None else offset
    return raw.astype(np.float64) * use_scale + use_offset


# --- Regions of interest -----------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class RegionStats:
    mean_c: float
    min_c: float
    max_c: float
    sd_c: float
    pixels: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "mean_c": round(self.mean_c, 2),
            "min_c": round(self.min_c, 2),
            "max_c": round(self.max_c, 2),
            "sd_c": round(self.sd_c, 2),
            "pixels": self.pixels,
        }


@dataclass(frozen=True)
class MirroredRegion:
    drawn: Rect
    mirror: Rect
    left: RegionStats  # the patient's left side
    right: RegionStats
    left_rect: Rect
    right_rect: Rect


def mirror_rect(rect: Rect, midline_x: float) -> Rect:
    """The rectangle reflected across the vertical line x = midline_x (pixel-edge
    coordinates: x = 0 is the image's left edge, so pixel column i spans [i, i + 1))."""
    return Rect(x=math.floor(2 * midline_x - rect.x - rect.w + 0.5), y=rect.y, w=rect.w, h=rect.h)


def region_stats(matrix: Matrix, rect: Rect) -> RegionStats:
    block = matrix[rect.y : rect.y + rect.h, rect.x : rect.x + rect.w]
    return RegionStats(
        mean_c=float(block.mean()),
        min_c=float(block.min()),
        max_c=float(block.max()),
        sd_c=float(block.std()),
        pixels=int(block.size),
    )


def rect_problem(rect: Rect, midline_x: float, width: int, height: int) -> str | None:
    """Why the rectangle cannot be measured with its mirror, or None."""
    if rect.w < 1 or rect.h < 1:
        return "must be at least 1 x 1 pixel"
    if rect.x < 0 or rect.y < 0 or rect.x + rect.w > width or rect.y + rect.h > height:
        return f"lies outside the {width} x {height} image"
    if rect.x < midline_x < rect.x + rect.w:
        return f"crosses the midline at x = {midline_x:g}; draw it on one side"
    mirror = mirror_rect(rect, midline_x)
    if mirror.x < 0 or mirror.x + mirror.w > width:
        return (
            f"its mirror image (x = {mirror.x} to {mirror.x + mirror.w}) falls outside the image; "
            "move the midline or the region"
        )
    return None


def mirrored_statistics(matrix: Matrix, rect: Rect, midline_x: float, image_left_is: str) -> MirroredRegion:
    """Statistics of a region and its mirror, assigned to the patient's sides.

    ``image_left_is`` says which side of the patient appears on the image's left ("left"
    for a posterior view, "right" for an anterior one, as a camera sees a patient facing it).
    """
    mirror = mirror_rect(rect, midline_x)
    drawn_on_image_left = rect.x + rect.w <= midline_x
    image_left, image_right = (rect, mirror) if drawn_on_image_left else (mirror, rect)
    left_rect, right_rect = (image_left, image_right) if image_left_is == "left" else (image_right, image_left)
    return MirroredRegion(
        drawn=rect,
        mirror=mirror,
        left=region_stats(matrix, left_rect),
        right=region_stats(matrix, right_rect),
        left_rect=left_rect,
        right_rect=right_rect,
    )


# --- Normal asymmetry per region ---------------------------------------------------------

# Left-right differences in healthy adults (Uematsu S, Edwin DH, Jankel WR, Kozikowski J,
# Trattner M. Quantification of thermal asymmetry. Part 1: Normal values and
# reproducibility. J Neurosurg 1988;69(4):552-5): |delta T| 0.18 +/- 0.18 degC on the forehead,
# 0.27 +/- 0.20 on the leg, 0.38 +/- 0.31 on the foot. The upper normal here is mean + 2 SD.
# A reading above it is marked "above normal asymmetry"; the CRPS-level flag stays at 1.0 degC.
# Matched on the region's name, most specific first (a foot dermatome is a foot reading).
UPPER_NORMAL_C: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("forehead", ("forehead", "face", "frontal"), 0.54),
    ("foot", ("foot", "plantar", "hallux", "toe", "metatars", "heel", "sole", "ankle"), 1.00),
    ("leg", ("leg", "thigh", "calf", "knee", "shin", "l3", "l4", "l5", "s1", "s2", "dermatome"), 0.67),
)


def upper_normal(region: str) -> tuple[str, float] | None:
    """The body site and its upper normal |delta T| in degC for a region name, or None."""
    name = region.casefold()
    for site, words, limit in UPPER_NORMAL_C:
        if any(word in name for word in words):
            return site, limit
    return None


# --- Rendering ---------------------------------------------------------------------------

# Matplotlib's "inferno" (van der Walt & Smith), perceptually uniform and readable in grey,
# sampled at ten stops as plotly ships it.
INFERNO = ("#000004", "#1b0c41", "#4a0c6b", "#781c6d", "#a52c60", "#cf4446", "#ed6925", "#fb9b06", "#f7d13d", "#fcffa4")
SCALE_BAR_WIDTH = 70
SCALE_BAR_MIN_ROWS = 120
SCALE_BAR_FOOT = 16


def _palette() -> npt.NDArray[np.uint8]:
    stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in INFERNO], dtype=np.float64)
    positions = np.linspace(0.0, 1.0, len(INFERNO))
    levels = np.linspace(0.0, 1.0, 256)
    table = np.stack([np.interp(levels, positions, stops[:, k]) for k in range(3)], axis=1)
    return np.round(table).astype(np.uint8)


def rendered_size(width: int, height: int) -> tuple[int, int]:
    """The size of :func:`render_png`'s picture for a width x height matrix: the matrix at the
    top left, the scale bar to its right, a line for the unit below."""
    return width + SCALE_BAR_WIDTH, max(height, SCALE_BAR_MIN_ROWS) + SCALE_BAR_FOOT


def display_range(matrix: Matrix) -> tuple[float, float]:
    """The 1st and 99th percentiles: a few hot or cold pixels do not flatten the picture."""
    low, high = np.percentile(matrix, [1.0, 99.0])
    return float(low), float(high)


def render_png(matrix: Matrix, low_c: float, high_c: float) -> bytes:
    """A false-colour PNG of the matrix on the scale [low_c, high_c], with a labelled scale bar."""
    from PIL import Image, ImageDraw, ImageFont

    if high_c <= low_c:
        high_c = low_c + 1.0
    height, width = matrix.shape
    levels = np.clip((matrix - low_c) / (high_c - low_c), 0.0, 1.0)
    palette = _palette()
    picture = palette[np.round(levels * 255).astype(np.intp)]
    rows = max(height, SCALE_BAR_MIN_ROWS)
    canvas = np.full((rows + SCALE_BAR_FOOT, width + SCALE_BAR_WIDTH, 3), 255, dtype=np.uint8)
    canvas[:height, :width] = picture
    bar_top, bar_bottom = 8, rows - 4
    ramp = np.linspace(255, 0, bar_bottom - bar_top).round().astype(np.intp)
    canvas[bar_top:bar_bottom, width + 8 : width + 24] = palette[ramp][:, None, :]
    image = Image.fromarray(canvas, "RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = bar_top + round((1.0 - fraction) * (bar_bottom - bar_top - 1))
        draw.line([(width + 24, y), (width + 28, y)], fill=(0, 0, 0))
        label = f"{low_c + fraction * (high_c - low_c):.1f}"
        draw.text((width + 30, max(0, y - 6)), label, fill=(0, 0, 0), font=font)
    draw.text((width + 8, rows + 2), "°C", fill=(0, 0, 0), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


# --- Preview for drawing -----------------------------------------------------------------

# A browser computes regions live while they are drawn from a copy of at most 160 x 120
# cells (a FLIR E-series frame at full size, a 640 x 480 frame in 4 x 4 blocks).
PREVIEW_MAX_WIDTH = 160
PREVIEW_MAX_HEIGHT = 120
CENTI = 100.0


@dataclass(frozen=True)
class Preview:
    block: int  # each cell is the mean of block x block pixels (fewer at the right and bottom edges)
    cells: Matrix  # degC, shape (ceil(height / block), ceil(width / block))


def preview(matrix: Matrix, *, max_width: int = PREVIEW_MAX_WIDTH, max_height: int = PREVIEW_MAX_HEIGHT) -> Preview:
    """The matrix in square blocks of the smallest whole size that fits max_width x max_height;
    a cell at the right or bottom edge averages the pixels it covers."""
    height, width = matrix.shape
    block = max(1, math.ceil(width / max_width), math.ceil(height / max_height))
    if block == 1:
        return Preview(block=1, cells=matrix.copy())
    rows, columns = math.ceil(height / block), math.ceil(width / block)
    padded = np.zeros((rows * block, columns * block))
    counts = np.zeros_like(padded)
    padded[:height, :width] = matrix
    counts[:height, :width] = 1.0
    sums = padded.reshape(rows, block, columns, block).sum(axis=(1, 3))
    numbers = counts.reshape(rows, block, columns, block).sum(axis=(1, 3))
    return Preview(block=block, cells=sums / numbers)


def centi_celsius_int16(cells: Matrix) -> bytes:
    """Cells as little-endian signed 16-bit hundredths of a degree (-40 to 150 degC fit)."""
    return bytes(np.round(cells * CENTI).astype("<i2").tobytes())
