#!/usr/bin/env python3
"""Writes crafted hostile images (and a few honest ones) into a directory:
the structures that cost an image decoder memory or CPU out of all
proportion to their size. Made at test time with the standard library only,
so no binary is checked in. Usage: mkhostile.py DIR [--small]

--small writes the same structures scaled down (fuzz seeds: libFuzzer's
inputs stay under its -max_len).

Each file's name says what it is; tests/unit/test_imgbox.c holds what the
sandbox must answer for each."""

import os
import random
import struct
import sys
import zlib


# ------------------------------------------------------------------ PNG

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def ihdr(w, h, depth=8, ctype=2, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))


SIG = b"\x89PNG\r\n\x1a\n"


def zeros_deflated(n, level=9):
    """zlib stream of n zero bytes, made in pieces (n may be hundreds of MB)."""
    c = zlib.compressobj(level)
    out = []
    block = bytes(1 << 20)
    while n > 0:
        k = min(n, len(block))
        out.append(c.compress(block[:k]))
        n -= k
    out.append(c.flush())
    return b"".join(out)


def png_bytes_per_pixel(depth, ctype):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    return channels * depth / 8


def adam7_raw_size(w, h, bpp):
    size = 0
    for xs, ys, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        pw = (w - xs + dx - 1) // dx if w > xs else 0
        ph = (h - ys + dy - 1) // dy if h > ys else 0
        if pw and ph:
            size += ph * (1 + int(pw * bpp + 0.999))
    return size


def small_png(w=64, h=64):
    """An honest 8-bit RGB image (a gradient)."""
    raw = b"".join(b"\0" + bytes(v for x in range(w) for v in ((x * 4) % 256, (y * 4) % 256, 128))
                   for y in range(h))
    return SIG + ihdr(w, h) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png_image(w, h, depth, ctype, interlace, idat_pieces=1, noise=False):
    bpp = png_bytes_per_pixel(depth, ctype)
    raw = adam7_raw_size(w, h, bpp) if interlace else h * (1 + int(w * bpp + 0.999))
    if noise:   # filter byte 0 on every row, pixels that do not compress
        row = int(w * bpp + 0.999)
        rnd = random.Random(7)
        z = zlib.compress(b"".join(b"\0" + rnd.randbytes(row) for _ in range(h)))
    else:
        z = zeros_deflated(raw)
    if idat_pieces <= 1:
        idats = chunk(b"IDAT", z)
    else:
        step = max(1, len(z) // idat_pieces)   # one byte a chunk at most
        idats = b"".join(chunk(b"IDAT", z[i:i + step]) for i in range(0, len(z), step))
    return SIG + ihdr(w, h, depth, ctype, interlace) + idats + chunk(b"IEND", b"")


def png_ztxt_bomb(count, each):
    """count zTXt chunks, each inflating to `each` bytes (libpng kept up to
    1000 of them, 8 MB each)."""
    z = zeros_deflated(each)
    texts = b"".join(chunk(b"zTXt", b"Comment%d\0\0" % i + z) for i in range(count))
    body = small_png()
    return body[:8 + 25] + texts + body[8 + 25:]


def png_iccp_bomb(size):
    """An ICC profile header declaring `size` bytes, then zeros: inflated in
    full before it is checked."""
    hdr = bytearray(132)
    struct.pack_into(">I", hdr, 0, size)
    hdr[8:12] = b"\x02\x10\x00\x00"
    hdr[12:16] = b"mntr"
    hdr[16:20] = b"RGB "
    hdr[20:24] = b"XYZ "
    hdr[36:40] = b"acsp"
    struct.pack_into(">III", hdr, 68, 0x0000F6D6, 0x00010000, 0x0000D32D)
    c = zlib.compressobj(9)
    z = c.compress(bytes(hdr)) + c.compress(bytes(size - len(hdr))) + c.flush()
    body = small_png()
    return body[:8 + 25] + chunk(b"iCCP", b"icc\0\0" + z) + body[8 + 25:]


def png_text_flood(count):
    texts = b"".join(chunk(b"tEXt", b"k%d\0v" % i) for i in range(count))
    body = small_png()
    return body[:8 + 25] + texts + body[8 + 25:]


def png_huge_chunk(size):
    body = small_png()
    return body[:8 + 25] + chunk(b"prVt", bytes(size)) + body[8 + 25:]


def png_lying_length():
    """A chunk that declares 2 GB and ends."""
    body = small_png()
    return body[:8 + 25] + struct.pack(">I", 0x7fffffff) + b"tEXt" + b"x" * 64


# ------------------------------------------------------------------ JPEG

class Bits:
    """MSB-first bit writer with JPEG byte stuffing."""

    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value, nbits):
        for i in range(nbits - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xff:
                    self.out.append(0)
                self.acc = 0
                self.n = 0

    def flush(self):
        while self.n:
            self.put(1, 1)
        return bytes(self.out)


def marker(code, payload):
    return bytes((0xff, code)) + struct.pack(">H", len(payload) + 2) + payload


def dht(cls_id, symbols_by_len):
    counts = bytes(len(symbols_by_len.get(i, [])) for i in range(1, 17))
    syms = bytes(s for i in range(1, 17) for s in symbols_by_len.get(i, []))
    return marker(0xC4, bytes((cls_id,)) + counts + syms)


def jpeg_progressive(w, h, comps, ac_scans, truncate_dc=False):
    """A progressive JPEG: one DC scan (every difference 0, one bit a
    block), then ac_scans AC scans of band 1..63 made of end-of-band runs of
    32767 blocks. Each AC scan is some twenty bytes, and costs the decoder a
    pass over every block of the image."""
    blocks_x, blocks_y = (w + 7) // 8, (h + 7) // 8
    nblocks = blocks_x * blocks_y
    out = bytearray(b"\xff\xd8")
    out += marker(0xDB, b"\x00" + bytes([1] * 64))
    sof = struct.pack(">BHHB", 8, h, w, len(comps))
    for cid in comps:
        sof += bytes((cid, 0x11, 0))
    out += marker(0xC2, sof)
    out += dht(0x00, {1: [0]})          # DC: one code, category 0
    out += dht(0x10, {1: [0xE0]})       # AC: one code, EOB run of 2^14 + 14 bits
    sos = bytes((len(comps),)) + b"".join(bytes((cid, 0x00)) for cid in comps) + b"\x00\x00\x00"
    out += marker(0xDA, sos)
    bits = Bits()
    for _ in range(nblocks * len(comps) if not truncate_dc else 64):
        bits.put(0, 1)
    out += bits.flush()
    if truncate_dc:
        return bytes(out)               # the rest never comes
    bits = Bits()
    for _ in range((nblocks + 32766) // 32767):
        bits.put(0, 1)
        bits.put(0x3fff, 14)
    ac_data = bits.flush()
    ac = marker(0xDA, bytes((1, comps[0], 0x00, 1, 63, 0))) + ac_data
    out += ac * ac_scans
    out += b"\xff\xd9"
    return bytes(out)


def jpeg_pixel_bomb():
    out = b"\xff\xd8" + marker(0xDB, b"\x00" + bytes([1] * 64))
    out += marker(0xC0, struct.pack(">BHHB", 8, 65000, 65000, 1) + bytes((1, 0x11, 0)))
    out += dht(0x00, {1: [0]}) + dht(0x10, {1: [0]})
    out += marker(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x00" * 64
    return out + b"\xff\xd9"


# ------------------------------------------------------------------ WebP

class LsbBits:
    def __init__(self):
        self.v = 0
        self.n = 0

    def put(self, value, nbits):
        self.v |= (value & ((1 << nbits) - 1)) << self.n
        self.n += nbits

    def bytes(self):
        return self.v.to_bytes((self.n + 7) // 8, "little")


def riff(chunks):
    body = b"WEBP" + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_chunk(kind, data):
    pad = b"\0" if len(data) % 2 else b""
    return kind + struct.pack("<I", len(data)) + data + pad


def webp_lossless_solid(w, h):
    """A lossless WebP of one colour: five one-symbol prefix codes, so every
    pixel costs no bit at all and a 30-byte file declares w x h pixels that
    libwebp holds whole."""
    b = LsbBits()
    b.put(w - 1, 14)
    b.put(h - 1, 14)
    b.put(0, 1)            # alpha hint
    b.put(0, 3)            # version
    b.put(0, 1)            # no transform
    b.put(0, 1)            # no colour cache
    b.put(0, 1)            # no meta prefix codes
    for symbol in (200, 40, 60, 255, 0):   # green, red, blue, alpha, distance
        b.put(1, 1)        # simple code
        b.put(0, 1)        # one symbol
        b.put(1, 1)        # of 8 bits
        b.put(symbol, 8)
    data = b"\x2f" + b.bytes() + bytes(16)
    return riff(webp_chunk(b"VP8L", data))


def webp_vp8x_oversized():
    """A VP8X header that declares a 16384 x 16384 canvas around a tiny image."""
    vp8x = struct.pack("<I", 0) + (16383).to_bytes(3, "little") + (16383).to_bytes(3, "little")
    inner = webp_lossless_solid(16, 16)[12:]
    return riff(webp_chunk(b"VP8X", vp8x) + inner)


# ------------------------------------------------------------------ the set

def cases(small):
    """name -> bytes. small: the same structures, a few KB each (fuzz seeds)."""
    s = 8 if small else 1
    return {
        "png-ztxt-bomb.png": lambda: png_ztxt_bomb(4 if small else 100, (64 << 10) if small else 7_900_000),
        "png-iccp-bomb.png": lambda: png_iccp_bomb((64 << 10) if small else 7_900_000),
        "png-many-idat.png": lambda: png_image(400 // s, 400 // s, 8, 2, 0, idat_pieces=(1000 if small else 1 << 30), noise=True),
        "png-text-flood.png": lambda: png_text_flood(50 if small else 200000),
        "png-huge-chunk.png": lambda: png_huge_chunk(4096 if small else 9_000_000),
        "png-lying-length.png": png_lying_length,
        "png-wide-16bit.png": lambda: png_image(40_000 if small else 40_000_000, 1, 16, 6, 0),
        "png-max-16bit.png": lambda: png_image(32768 // s, 1220 // s, 16, 6, 0),
        "png-interlaced-16bit.png": lambda: png_image(6000 // s, 6000 // s, 16, 6, 1),
        "jpeg-many-scans.jpg": lambda: jpeg_progressive(4096 // s, 4096 // s, [1], 20 if small else 18000),
        "jpeg-huge-coefficients.jpg": lambda: jpeg_progressive(6000 // s, 6000 // s, [1, 2, 3], 0, truncate_dc=True),
        "jpeg-pixel-bomb.jpg": jpeg_pixel_bomb,
        "webp-lossless-huge.webp": lambda: webp_lossless_solid(6000 // s, 6000 // s),
        "webp-vp8x-oversized.webp": webp_vp8x_oversized,
        "webp-lossless-3000.webp": lambda: webp_lossless_solid(3000 // s, 3000 // s),
        "png-honest.png": small_png,
    }


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: mkhostile.py DIR [--small]")
    out = sys.argv[1]
    small = "--small" in sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for name, make in cases(small).items():
        path = os.path.join(out, ("hostile-" if small else "") + name)
        if os.path.exists(path):
            continue
        data = make()
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
