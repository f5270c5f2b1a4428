#!/usr/bin/python3
"""Small PNGs of every colour type and bit depth real datasets contain, and the RGB pixels
PIL's `Image.open(f).convert("RGB")` gives for them: what torchvision's ImageFolder feeds a
PyTorch model, so Podium's decoder must give the same bytes. The one exception is 16-bit
greyscale, where PIL clamps; there the expected value is the high byte of each sample.

Writes Tests/ImagingTests/Fixtures/png/*.png and expected.json ({name: {width, height, rgb}}).
Run with Debian's python3 (python3-pil, python3-numpy).
"""
import json
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "ImagingTests", "Fixtures", "png")
W, H = 7, 5
rng = np.random.default_rng(2024)


def save(name, image, **options):
    path = os.path.join(OUT, name + ".png")
    image.save(path, **options)
    return name


def main():
    os.makedirs(OUT, exist_ok=True)
    names = []
    rgb8 = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    names.append(save("rgb8", Image.fromarray(rgb8, "RGB")))
    grey8 = rng.integers(0, 256, (H, W), dtype=np.uint8)
    names.append(save("grey8", Image.fromarray(grey8, "L")))
    # 16-bit greyscale ("I;16"). PIL opens it as 32-bit "I" and clamps to 255 when converting
    # to RGB (a known PIL defect), so the expected value is set below to the high byte, as
    # for 16-bit RGB.
    grey16 = rng.integers(0, 65536, (H, W), dtype=np.uint16)
    names.append(save("grey16", Image.fromarray(grey16, "I;16")))
    # Grey + alpha, and RGBA with fully transparent pixels: PIL drops alpha, keeping colour.
    la = np.dstack([grey8, rng.integers(0, 256, (H, W), dtype=np.uint8)])
    la[0, :, 1] = 0
    names.append(save("grey_alpha", Image.fromarray(la, "LA")))
    rgba = np.dstack([rgb8, rng.integers(0, 256, (H, W), dtype=np.uint8)])
    rgba[:, 0, 3] = 0
    names.append(save("rgba", Image.fromarray(rgba, "RGBA")))
    # A palette image with a transparent entry.
    palette = Image.fromarray(rgb8, "RGB").quantize(colors=6)
    names.append(save("palette", palette, transparency=0))
    expected = {}
    for name in names:
        with Image.open(os.path.join(OUT, name + ".png")) as image:
            rgb = np.asarray(image.convert("RGB"))
        expected[name] = {"width": W, "height": H, "rgb": rgb.reshape(-1).tolist()}
    expected["grey16"]["rgb"] = np.repeat((grey16 >> 8).astype(np.uint8).reshape(-1), 3).tolist()
    # 16-bit RGB: PIL cannot write it, so build it from the rgb8 values scaled to 16 bits
    # (v * 257, high byte = v) with PyPNG-free raw zlib, and expect the 8-bit values back.
    names.append(write_rgb16("rgb16", rgb8))
    expected["rgb16"] = {"width": W, "height": H, "rgb": rgb8.reshape(-1).tolist()}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f)
    print("wrote", ", ".join(names))


def write_rgb16(name, rgb8):
    """A minimal 16-bit RGB PNG (colour type 2, depth 16), no ancillary chunks."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    values = rgb8.astype(np.uint16) * 257
    raw = b"".join(b"\x00" + values[y].astype(">u2").tobytes() for y in range(H))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 16, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(os.path.join(OUT, name + ".png"), "wb") as f:
        f.write(png)
    return name


if __name__ == "__main__":
    main()
