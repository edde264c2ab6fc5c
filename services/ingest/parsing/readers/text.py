"""Plain-text notices: UTF-8, UTF-16 with BOM, GB18030/GBK, else a guess."""

from __future__ import annotations

import codecs

from services.ingest.parsing.readers.segments import reader_error


def decode_text(data: bytes) -> str:
    """Decode a plain-text notice: UTF-8 (BOM or not), UTF-16 with BOM, GB18030/GBK, else guess."""
    text = _decode(data)
    if "\x00" in text:
        raise reader_error("unsupported_type", "不是文本文件（含二进制内容）", "not a text file (binary content)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise reader_error("corrupt", "UTF-16 文本已损坏", "the UTF-16 text is corrupt") from exc
    # Strict UTF-8 first: valid UTF-8 Chinese is almost never valid GB18030 and vice versa,
    # and statistical guessing on short Chinese text is the least reliable of the three.
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise reader_error(
            "unsupported_type", "无法识别文本编码，可能不是文本文件", "unknown text encoding; not a text file?"
        )
    return str(best)
