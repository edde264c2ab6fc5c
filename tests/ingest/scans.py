"""Image-only PDFs made from notice text, as a scanner would give them: every page one picture.

Drawn with Pillow in a CJK font found on the machine (`fc-list :lang=zh`), so OCR has real
Chinese glyphs to read; saved by Pillow as a PDF of images, with no text layer.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from functools import cache

_DPI = 200
_PAGE = (1654, 2339)  # A4 at 200 dpi
_MARGIN = 110
_SIZE = 30  # px: about 11 pt at 200 dpi
_LEADING = 46


@cache
def cjk_font_path() -> str | None:
    if shutil.which("fc-list") is None:
        return None
    out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False).stdout
    paths = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
    return paths[0] if paths else None


def _wrap(line: str, font, width: int) -> list[str]:
    out, current = [], ""
    for ch in line:
        if font.getlength(current + ch) > width and current:
            out.append(current)
            current = ""
        current += ch
    return [*out, current] if current else out


def build_image_pdf(text: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(cjk_font_path(), _SIZE)
    width = _PAGE[0] - 2 * _MARGIN
    lines = [
        w
        for line in text.replace("**", "").split("\n")
        if line.strip("# ")
        for w in _wrap(line.strip("# "), font, width)
    ]
    per_page = (_PAGE[1] - 2 * _MARGIN) // _LEADING
    pages = []
    for start in range(0, len(lines), per_page):
        page = Image.new("L", _PAGE, 255)
        draw = ImageDraw.Draw(page)
        for i, line in enumerate(lines[start : start + per_page]):
            draw.text((_MARGIN, _MARGIN + i * _LEADING), line, font=font, fill=0)
        pages.append(page)
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=_DPI, save_all=True, append_images=pages[1:])
    return out.getvalue()
