from __future__ import annotations

import io

import numpy as np
import pytest

from assessments.thermograms import imaging as t
from tests.thermo_images import HEIGHT, MIDLINE, WIDTH, body, csv_bytes, flir_jpeg_bytes, tiff_bytes


@pytest.mark.parametrize(
    ("separator", "decimal"),
    [(",", "."), (";", "."), (";", ","), ("\t", ","), ("\t", ".")],
)
def test_csv_separators_and_decimal_marks(separator, decimal):
    header = ("File: IR_0042.jpg", "Date;2026-03-01", "Frame 1", "")
    parsed = t.read_matrix(csv_bytes(body(), separator=separator, decimal=decimal, header=header))
    assert parsed.kind == "csv"
    assert (parsed.width, parsed.height) == (WIDTH, HEIGHT)
    np.testing.assert_allclose(parsed.matrix, body())


def test_csv_errors_give_the_file_line_number():
    data = csv_bytes(body(), separator=";", header=("Camera;FLIR E8", "", "Emissivity;0.98", ""))
    data = data.replace(b"31.00", b"31.0o", 1)
    with pytest.raises(t.ThermogramError, match=r"Line 15 of the file holds '31\.0o'"):
        t.read_matrix(data)


def test_csv_with_bom_and_trailing_separator():
    data = b"\xef\xbb\xbf" + b"\n".join(b";".join(b"30,5" for _ in range(10)) + b";" for _ in range(9))
    parsed = t.read_matrix(data)
    assert parsed.matrix.shape == (9, 10)
    assert parsed.matrix[0, 0] == 30.5


def test_tiff_in_centi_kelvin():
    parsed = t.read_matrix(tiff_bytes(body()))
    assert parsed.kind == "tiff"
    np.testing.assert_allclose(parsed.matrix, body(), atol=0.006)


def test_tiff_with_given_scale():
    raw = np.full((HEIGHT, WIDTH), 3000.0)
    parsed = t.read_matrix(tiff_bytes(raw, centi_kelvin=False), scale=0.01, offset=2.0)
    np.testing.assert_allclose(parsed.matrix, 32.0)


@pytest.mark.parametrize("png", [False, True])
def test_flir_radiometric_jpeg(png):
    parsed = t.read_matrix(flir_jpeg_bytes(body(), png=png))
    assert parsed.kind == "flir"
    assert (parsed.width, parsed.height) == (WIDTH, HEIGHT)
    # One raw count is about 0.01 degC at skin temperature: rounding to counts costs < 0.005.
    np.testing.assert_allclose(parsed.matrix, body(), atol=0.005)


def test_flir_jpeg_size_is_checked_before_decoding(monkeypatch):
    monkeypatch.setattr(t, "MAX_PIXELS", 1000)
    with pytest.raises(t.ThermogramError, match="at most 1000"):
        t.read_matrix(flir_jpeg_bytes(body()))


def test_ordinary_jpeg_is_not_radiometric():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32)).save(out, format="JPEG")
    with pytest.raises(t.ThermogramError, match="holds no FLIR radiometric data"):
        t.read_matrix(out.getvalue())


def test_float_tiff_holds_celsius():
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(body().astype(np.float32)).save(out, format="TIFF")
    np.testing.assert_allclose(t.read_matrix(out.getvalue()).matrix, body(), atol=1e-5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xff\xd8\xff\xe0JFIF\x00" * 20, "holds no FLIR radiometric data"),
        (flir_jpeg_bytes(body())[:3000], "The FLIR JPEG is truncated"),
        (b"%PDF-1.7\x00\x01\x02", "Unknown file type"),
        (b"hello world\nnot a matrix\n", "No temperature matrix found"),
        (csv_bytes(body())[:-40], "Line 48 of the file has 58 values; the matrix rows above have 64"),
        (csv_bytes(body()).replace(b"24.00", b"nan", 1), "not a number (NaN or infinity) at row 1, column 1"),
        (csv_bytes(body() + 273.15), "is not plausible"),
        (csv_bytes(body()).replace(b"24.00", b"24.x0", 1), "Line 1 of the file holds '24.x0', which is not a number"),
        (csv_bytes(body()).replace(b"31.00", b"31.0o", 1), "Line 11 of the file holds '31.0o', which is not a number"),
        (csv_bytes(np.full((4, 4), 30.0)), "No temperature matrix found"),
        (tiff_bytes(body())[:200], "truncated or corrupt"),
    ],
)
def test_bad_files_name_the_problem(data, message):
    with pytest.raises(t.ThermogramError, match=None) as caught:
        t.read_matrix(data)
    assert message in str(caught.value)


def test_colour_tiff_is_not_radiometric():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, format="TIFF")
    with pytest.raises(t.ThermogramError, match="not radiometric"):
        t.read_matrix(out.getvalue())


def test_pixel_limit(monkeypatch):
    monkeypatch.setattr(t, "MAX_PIXELS", 1000)
    with pytest.raises(t.ThermogramError, match="at most 1000"):
        t.read_matrix(csv_bytes(body()))
    with pytest.raises(t.ThermogramError, match="at most 1000"):
        t.read_matrix(tiff_bytes(body()))


def test_mirror_is_a_reflection_across_the_midline():
    assert t.mirror_rect(t.Rect(8, 10, 8, 20), 32) == t.Rect(48, 10, 8, 20)
    assert t.mirror_rect(t.Rect(48, 10, 8, 20), 32) == t.Rect(8, 10, 8, 20)
    # A midline between two pixel columns at 31.5: column 31 mirrors onto column 31.
    assert t.mirror_rect(t.Rect(31, 0, 1, 1), 31.5) == t.Rect(31, 0, 1, 1)
    assert t.mirror_rect(t.Rect(0, 0, 4, 1), 20.5) == t.Rect(37, 0, 4, 1)


@pytest.mark.parametrize("drawn", [t.Rect(8, 10, 8, 20), t.Rect(48, 10, 8, 20)])
@pytest.mark.parametrize(("image_left_is", "left_c", "right_c"), [("left", 31.0, 32.5), ("right", 32.5, 31.0)])
def test_sides_follow_image_left_is(drawn, image_left_is, left_c, right_c):
    pair = t.mirrored_statistics(body(), drawn, MIDLINE, image_left_is)
    assert pair.left.mean_c == pytest.approx(left_c)
    assert pair.right.mean_c == pytest.approx(right_c)
    assert pair.left.pixels == pair.right.pixels == 160


def test_region_statistics():
    matrix = body()
    matrix[10, 8] = 35.0
    stats = t.region_stats(matrix, t.Rect(8, 10, 8, 20))
    assert stats.max_c == 35.0
    assert stats.min_c == 31.0
    assert stats.mean_c == pytest.approx((31.0 * 159 + 35.0) / 160)
    assert stats.sd_c == pytest.approx(float(np.std(matrix[10:30, 8:16])))


@pytest.mark.parametrize(
    ("rect", "midline", "problem"),
    [
        (t.Rect(28, 0, 8, 4), 32, "crosses the midline"),
        (t.Rect(60, 0, 8, 4), 32, "outside the 64 x 48 image"),
        (t.Rect(0, 0, 4, 4), 40, "its mirror image"),
        (t.Rect(8, 10, 8, 20), 32, None),
    ],
)
def test_rect_problems(rect, midline, problem):
    found = t.rect_problem(rect, midline, WIDTH, HEIGHT)
    assert (found is None) if problem is None else (problem in found)


def test_render_png_has_scale_bar():
    from PIL import Image

    png = t.render_png(body(), 24.0, 33.0)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (WIDTH + t.SCALE_BAR_WIDTH, max(HEIGHT, 120) + 16) == t.rendered_size(WIDTH, HEIGHT)
    tall = Image.open(io.BytesIO(t.render_png(np.full((300, 40), 30.0), 29.0, 31.0)))
    assert tall.size == t.rendered_size(40, 300) == (40 + t.SCALE_BAR_WIDTH, 316)
    pixels = np.asarray(image.convert("RGB"))
    # Background (coolest) is the palette's darkest colour, the warm block its brighter end.
    assert tuple(pixels[0, 0]) == (0, 0, 4)
    assert pixels[15, 50].sum() > pixels[15, 10].sum()


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("Forehead", ("forehead", 0.54)),
        ("L5 dermatome, dorsum of foot", ("foot", 1.00)),
        ("Hallux", ("foot", 1.00)),
        ("S1 dermatome", ("leg", 0.67)),
        ("Left calf", ("leg", 0.67)),
        ("Dorsal hand, ulnar", None),
    ],
)
def test_upper_normal_by_region_name(region, expected):
    assert t.upper_normal(region) == expected


def test_preview_of_a_small_matrix_is_the_matrix():
    preview = t.preview(body())
    assert preview.block == 1
    np.testing.assert_array_equal(preview.cells, body())


@pytest.mark.parametrize(
    ("shape", "block", "cells"),
    [
        ((480, 640), 4, (120, 160)),
        ((240, 320), 2, (120, 160)),
        ((348, 464), 3, (116, 155)),
        ((1024, 1280), 9, (114, 143)),
    ],
)
def test_preview_fits_160_by_120_in_whole_blocks(shape, block, cells):
    preview = t.preview(np.full(shape, 30.0))
    assert preview.block == block
    assert preview.cells.shape == cells
    assert cells[0] <= t.PREVIEW_MAX_HEIGHT
    assert cells[1] <= t.PREVIEW_MAX_WIDTH
    np.testing.assert_allclose(preview.cells, 30.0)


def test_preview_cells_are_block_means_with_partial_edges():
    matrix = np.arange(7 * 5, dtype=np.float64).reshape(5, 7)
    preview = t.preview(matrix, max_width=3, max_height=3)
    assert preview.block == 3
    assert preview.cells.shape == (2, 3)
    assert preview.cells[0, 0] == matrix[0:3, 0:3].mean()
    assert preview.cells[1, 2] == matrix[3:5, 6:7].mean()  # 2 x 1 pixels at the corner
    assert preview.cells[0, 2] == matrix[0:3, 6:7].mean()


def test_centi_celsius_int16_round_trip():
    cells = np.array([[-40.0, 0.0], [36.57, 150.0]])
    raw = np.frombuffer(t.centi_celsius_int16(cells), dtype="<i2")
    assert raw.tolist() == [-4000, 0, 3657, 15000]
