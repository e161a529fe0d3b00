"""Can a file this small hold the pixels its header claims?

A PNG or JPEG that ends early is not always refused by the decoder: a PNG whose compressed
stream stops after one row, or a JPEG with its end marker right after the header, decodes
"fine" as a picture that is almost all made up (zeros, grey) — and as a 100 MP picture if
the header says so (a decompression bomb's shape: 89 bytes that claim 10,000×10,000).

Both formats have a hard floor on how small their data can be, whatever the picture:

- PNG: the rows are compressed with deflate, which cannot do better than 1032:1 (a run of
  258 bytes coded in two bits); the rows of a W×H image at B bits per pixel take
  H × (1 + ⌈W·B/8⌉) bytes before compression.
- JPEG with Huffman coding (baseline, extended, progressive, lossless): every 8×8 block of a
  component is coded with at least one bit (its DC difference), so the component with the
  most blocks needs that many bits. Arithmetic coding has no such floor and is not judged.

:func:`least_bytes` gives that floor; a file under it cannot be complete. Other formats are
not judged: WebP and TIFF code a flat picture in next to nothing (a plain 5000×5000 WebP is
1 KB), and the decoders of the raw and LZW ones already refuse data that ends early.
"""

from __future__ import annotations

import math
import struct

DEFLATE_MAX_RATIO = 1032
# PNG colour type → samples per pixel.
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# JPEG start-of-frame markers of the Huffman-coded processes (C4 is DHT, C8 reserved, C9+ arithmetic).
JPEG_HUFFMAN_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7}
JPEG_ARITHMETIC_SOF = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def least_bytes(fmt: str | None, data: bytes) -> int | None:
    """The fewest bytes a complete file of this format and header could have, or None where
    the format has no useful floor (or the header is not what we expect)."""
    try:
        if fmt == "PNG":
            return _png(data)
        if fmt in ("JPEG", "MPO"):
            return _jpeg(data)
    except (struct.error, IndexError, ValueError):
        return None
    return None


def _png(data: bytes) -> int | None:
    if data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    channels = PNG_CHANNELS.get(colour)
    if channels is None or not width or not height:
        return None
    raw = height * (1 + math.ceil(width * depth * channels / 8))
    return raw // DEFLATE_MAX_RATIO


def _jpeg(data: bytes) -> int | None:
    """From the frame header: the blocks of the largest component, one bit each."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        if marker == 0xDA or marker in JPEG_ARITHMETIC_SOF:  # scan data before a frame, or no floor
            return None
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in JPEG_HUFFMAN_SOF:
            height, width, count = struct.unpack(">HHB", data[i + 5:i + 10])
            factors = [(data[i + 11 + 3 * c] >> 4, data[i + 11 + 3 * c] & 15) for c in range(count)]
            if not factors or not width or not height:
                return None
            hmax, vmax = max(h for h, _ in factors), max(v for _, v in factors)
            if not hmax or not vmax:
                return None
            blocks = max(math.ceil(math.ceil(width * h / hmax) / 8) * math.ceil(math.ceil(height * v / vmax) / 8)
                         for h, v in factors)
            return blocks // 8
        i += 2 + length
    return None
