"""Checks on an exercise picture or video before it is stored (pure: bytes in, verdict out).

Pictures: Pillow must open and verify the file, and its format must be PNG, JPEG, WebP or
GIF; the pixel count is capped so that a small file cannot unpack into a huge bitmap.
Videos are not decoded: an MP4 is recognised by its ``ftyp`` box at byte 4 and a WebM by
the EBML magic number at byte 0, and the size limit does the rest (the file is only ever
sent back to a browser's own video player).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

IMAGE_FORMATS = {"PNG": ("image/png", ".png"), "JPEG": ("image/jpeg", ".jpg"), "WEBP": ("image/webp", ".webp")}
IMAGE_FORMATS["GIF"] = ("image/gif", ".gif")
MAX_IMAGE_PIXELS = 25_000_000  # 25 megapixels: far more than a phone screen needs
MP4_BRANDS_AT = slice(4, 8)
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"


@dataclass(frozen=True)
class MediaVerdict:
    kind: str  # "image" or "video"
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None


class MediaRejected(ValueError):
    """The file is not an accepted picture or video; the message says why."""


def sniff_video(head: bytes) -> MediaVerdict | None:
    if len(head) >= 12 and head[MP4_BRANDS_AT] == b"ftyp":
        return MediaVerdict("video", "video/mp4", ".mp4")
    if head.startswith(WEBM_MAGIC):
        return MediaVerdict("video", "video/webm", ".webm")
    return None


def check_image(data: bytes) -> MediaVerdict:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format or ""
                width, height = probe.size
                probe.verify()
            # verify() checks the structure; loading the pixels catches truncated data too.
            with Image.open(io.BytesIO(data)) as image:
                if width * height > MAX_IMAGE_PIXELS:
                    raise MediaRejected(
                        f"The picture has {width}x{height} pixels; at most {MAX_IMAGE_PIXELS} accepted."
                    )
                image.load()
    except MediaRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected("The picture is too large when unpacked.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaRejected("The picture is damaged or not a picture Pillow can read.") from exc
    if fmt not in IMAGE_FORMATS:
        raise MediaRejected(f"{fmt or 'This'} pictures are not accepted; use PNG, JPEG, WebP or GIF.")
    content_type, extension = IMAGE_FORMATS[fmt]
    return MediaVerdict("image", content_type, extension, width, height)


def check_media(data: bytes, *, image_max_bytes: int, video_max_bytes: int) -> MediaVerdict:
    """What the file is, or MediaRejected naming why it is refused (type, size, damage)."""
    if not data:
        raise MediaRejected("The file is empty.")
    video = sniff_video(data[:16])
    if video is not None:
        if len(data) > video_max_bytes:
            raise MediaRejected(f"The video is {len(data)} bytes; at most {video_max_bytes} bytes are accepted.")
        return video
    if len(data) > image_max_bytes:
        raise MediaRejected(
            f"The file is {len(data)} bytes; pictures may have at most {image_max_bytes} bytes "
            f"(MP4 or WebM videos {video_max_bytes})."
        )
    return check_image(data)
