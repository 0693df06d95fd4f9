"""Test images without an imaging library (there is no PIL here): a PNG
encoder over zlib, a baseline greyscale JPEG encoder whose blocks are flat
(DC coefficients only, so no DCT is needed), and readers of the dimensions
in PNG, JPEG and WebP headers. JPEG colour and WebP inputs come from the
component under test converting a PNG; their headers are read here."""
from __future__ import annotations

import random
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, alpha: bool = False, noise: int = 0, seed: int = 1) -> bytes:
    """An RGB(A) gradient; `noise` adds photo-like grain (so JPEG has work)."""
    rnd = random.Random(seed)
    channels = 4 if alpha else 3
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        g = 255 * y // max(1, height - 1)
        for x in range(width):
            r = 255 * x // max(1, width - 1)
            b = (x * y) & 255
            if noise:
                n = rnd.randint(-noise, noise)
                r, g2, b = (min(255, max(0, c + n)) for c in (r, g, b))
            else:
                g2 = g
            row += bytes((r, g2, b, 128 + (x & 127)) if alpha else (r, g2, b))
        rows.append(bytes(row))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
            + _chunk(b"IEND", b""))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height over a tiny (empty-rows) IDAT: a decompression bomb's header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 1024))
            + _chunk(b"IEND", b""))


# Standard luminance DC table (JPEG Annex K.3), categories 0..11.
_DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
_DC_CODES = ["00", "010", "011", "100", "101", "110", "1110", "11110", "111110", "1111110",
             "11111110", "111111110"]


def jpeg_grey(width: int, height: int) -> bytes:
    """A baseline greyscale JPEG of 8x8 flat blocks (a blocky diagonal gradient).
    Width and height are multiples of 8. The AC table holds one code, `0`, for
    end-of-block; the quantisation table is all ones."""
    assert width % 8 == 0 and height % 8 == 0
    bits = []
    prev = 0
    for by in range(height // 8):
        for bx in range(width // 8):
            level = (bx * 7 + by * 5) % 256
            dc = 8 * (level - 128)
            diff, prev = dc - prev, dc
            cat = abs(diff).bit_length()
            bits.append(_DC_CODES[cat])
            if cat:
                v = diff if diff > 0 else diff + (1 << cat) - 1
                bits.append(format(v, f"0{cat}b"))
            bits.append("0")  # EOB
    s = "".join(bits)
    s += "1" * (-len(s) % 8)
    data = bytearray()
    for i in range(0, len(s), 8):
        byte = int(s[i:i + 8], 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0)

    def seg(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    dqt = bytes([0]) + bytes([1] * 64)
    sof = struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0])
    dht_dc = bytes([0x00]) + bytes(_DC_BITS) + bytes(range(12))
    dht_ac = bytes([0x10]) + bytes([1] + [0] * 15) + bytes([0x00])
    sos = bytes([1, 1, 0x00, 0, 63, 0])
    return (b"\xff\xd8" + seg(0xDB, dqt) + seg(0xC0, sof) + seg(0xC4, dht_dc) + seg(0xC4, dht_ac)
            + seg(0xDA, sos) + bytes(data) + b"\xff\xd9")


def dimensions(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from the header of a PNG, JPEG or WebP."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        assert data[12:16] == b"IHDR"
        w, h = struct.unpack(">II", data[16:24])
        return "png", w, h
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i < len(data):
            assert data[i] == 0xFF, f"bad JPEG marker at {i}"
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return "jpeg", w, h
            i += 2 + length
        raise AssertionError("JPEG without a frame header")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = data[12:16]
        if kind == b"VP8L":
            assert data[20] == 0x2F
            v = int.from_bytes(data[21:25], "little")
            return "webp", (v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1
        if kind == b"VP8X":
            return "webp", int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
        if kind == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return "webp", w & 0x3FFF, h & 0x3FFF
    raise AssertionError(f"not a PNG, JPEG or WebP: {data[:16]!r}")
