"""Draws extension/media/icon.png, the extension's icon: a scoring server answering a request.

Run from the repository root with an interpreter that has Pillow (not a project dependency:
the PNG is committed, this script is how it was made): python extension/media/draw_icon.py
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = 256
SCALE = 4  # drawn 4x larger, then downsampled: smooth edges without an anti-aliasing API
S = SIZE * SCALE
TOP, BOTTOM = (0, 120, 212), (0, 60, 130)  # Azure blue, darker at the bottom


def background() -> Image.Image:
    """A rounded square with a vertical gradient."""
    gradient = Image.new("RGB", (1, S))
    for y in range(S):
        t = y / (S - 1)
        gradient.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(TOP, BOTTOM, strict=True)))
    gradient = gradient.resize((S, S))
    mask = Image.new("L", (S, S), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, S - 1, S - 1), radius=S // 5, fill=255)
    out = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    out.paste(gradient, (0, 0), mask)
    return out


def foreground(img: Image.Image) -> None:
    """A play triangle (start the server) and rising bars (the scores it returns)."""
    d = ImageDraw.Draw(img)
    u = S / 16
    d.polygon([(3 * u, 4 * u), (3 * u, 12 * u), (8.5 * u, 8 * u)], fill=(255, 255, 255, 255))
    for i, height in enumerate((3.0, 5.0, 7.5)):
        x = (9.5 + i * 1.6) * u
        d.rounded_rectangle((x, 12 * u - height * u, x + 1.1 * u, 12 * u), radius=0.3 * u, fill=(120, 220, 255, 255))
    d.rounded_rectangle((3 * u, 12.9 * u, 13.3 * u, 13.5 * u), radius=0.3 * u, fill=(255, 255, 255, 200))


def main() -> None:
    img = background()
    foreground(img)
    img = img.filter(ImageFilter.SMOOTH).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    out = Path(__file__).with_name("icon.png")
    img.save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
