"""Limits on a zip container (docx) checked before anything inflates it.

A 262 KB docx whose styles.xml inflates to 128 MB, or 99 KB holding 64 MB of empty paragraphs,
cost gigabytes once python-docx and lxml had built their trees. Each member's declared size and
compression ratio are checked from the central directory first; then every member is inflated
into a counter (nothing kept) that stops at the cap, since a header can understate what the
deflate stream really holds, and an XML member carrying a DTD is refused: Office Open XML never
has one, and entity declarations are how XML bombs expand.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

from services.ingest.parsing.readers.segments import reader_error, too_complex


@dataclass(frozen=True)
class ZipLimits:
    member_bytes: int = 32 * 1024 * 1024
    total_bytes: int = 96 * 1024 * 1024
    # Real Word XML compresses 5–20×; runs of identical markup (a bomb) compress by hundreds.
    ratio: float = 100.0
    # Below this a member is too small to hurt, whatever its ratio.
    ratio_floor: int = 1024 * 1024
    members: int = 2000


DEFAULT_LIMITS = ZipLimits()
_CHUNK = 64 * 1024
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")


def check_zip(zf: zipfile.ZipFile, limits: ZipLimits = DEFAULT_LIMITS) -> None:
    """Raise `too_complex` / `unsafe_xml` for a container that would inflate past the limits."""
    infos = zf.infolist()
    if len(infos) > limits.members:
        raise too_complex(f"压缩包内文件过多（{len(infos)} 个）", f"{len(infos)} members in the archive")
    _check_headers(infos, limits)
    total = 0
    for info in infos:
        total += _inflate_counting(zf, info, limits.member_bytes, limits.total_bytes - total)


def _check_headers(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        if size > limits.member_bytes:
            raise too_complex(
                f"{info.filename} 解压后 {size // (1024 * 1024)} MB，超过 {limits.member_bytes // (1024 * 1024)} MB 上限",
                f"{info.filename} inflates to {size} bytes, over the {limits.member_bytes} byte limit",
            )
        if size > limits.ratio_floor and size > limits.ratio * max(info.compress_size, 1):
            raise too_complex(
                f"{info.filename} 压缩比异常（{size // max(info.compress_size, 1)} 倍），疑似压缩炸弹",
                f"{info.filename} has a compression ratio of {size // max(info.compress_size, 1)}, a zip bomb",
            )
    if total > limits.total_bytes:
        raise too_complex(
            f"解压后共 {total // (1024 * 1024)} MB，超过 {limits.total_bytes // (1024 * 1024)} MB 上限",
            f"the archive inflates to {total} bytes, over the {limits.total_bytes} byte limit",
        )


def _inflate_counting(zf: zipfile.ZipFile, info: zipfile.ZipInfo, member_cap: int, total_left: int) -> int:
    """Inflate one member into nothing, counting; refuse once it passes either cap or shows a DTD."""
    cap = min(member_cap, total_left)
    xml = info.filename.endswith((".xml", ".rels"))
    seen = 0
    tail = b""
    with zf.open(info) as member:
        while chunk := member.read(_CHUNK):
            seen += len(chunk)
            if seen > cap:
                raise too_complex(f"{info.filename} 实际解压内容超过上限", f"{info.filename} inflates past the limit")
            if xml:
                window = tail + chunk
                if any(mark in window for mark in _DTD_MARKS):
                    raise reader_error(
                        "unsafe_xml",
                        f"文件含有不允许的 XML 声明（DTD/实体），已拒收：{info.filename}",
                        f"the file declares an XML DTD or entities, which is refused: {info.filename}",
                    )
                tail = window[-16:]
    return seen
