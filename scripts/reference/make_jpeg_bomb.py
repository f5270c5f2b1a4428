#!/usr/bin/python3
"""A progressive JPEG with 300 scans: a 16x16 image saved progressive by PIL, whose last
scan (an AC refinement) is repeated until the file holds 300. libjpeg decodes it (repeated
scans only raise a warning) but spends a full pass per scan, so files like this are a
CPU bomb; Podium refuses any JPEG with more than 100 scans.

Writes Tests/ImagingTests/Fixtures/jpeg/progressive_300_scans.jpg. Run with Debian's
python3 (python3-pil).
"""
import io
import os

from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "ImagingTests", "Fixtures", "jpeg", "progressive_300_scans.jpg")
SCANS = 300


def segments(data):
    """(marker, start, end) of each marker segment; a scan's end includes its entropy-coded data."""
    position, found = 2, []
    while position < len(data):
        assert data[position] == 0xFF
        marker = data[position + 1]
        if marker == 0xD9:  # EOI
            found.append((marker, position, position + 2))
            break
        length = int.from_bytes(data[position + 2:position + 4], "big")
        end = position + 2 + length
        if marker == 0xDA:  # SOS: entropy data runs to the next marker that is not a stuffed byte or RST
            while not (data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
        found.append((marker, position, end))
        position = end
    return found


def main():
    image = Image.new("RGB", (16, 16))
    image.putdata([(x * 16, y * 16, (x + y) * 8) for y in range(16) for x in range(16)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, progressive=True)
    data = buffer.getvalue()
    parts = segments(data)
    scans = [(start, end) for marker, start, end in parts if marker == 0xDA]
    last_start, last_end = scans[-1]
    repeated = data[last_start:last_end] * (SCANS - len(scans))
    bomb = data[:last_end] + repeated + data[last_end:]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as file:
        file.write(bomb)
    print(f"{OUT}: {len(bomb)} bytes, {SCANS} scans ({len(scans)} from PIL)")


if __name__ == "__main__":
    main()
