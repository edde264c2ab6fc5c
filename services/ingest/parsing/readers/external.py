"""Readers that need a program from the machine: LibreOffice for .doc/.wps, Tesseract for scanned PDFs.

Each runs in a subprocess with a timeout under the parse sandbox's (the worker's memory cap is
inherited by the program), in a private temporary directory removed afterwards. When the program
is not installed, the upload is refused with an error naming the Debian package to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from services.ingest.parsing.readers.segments import reader_error, too_complex

# Under the sandbox's default 30 s for the whole parse: a conversion or a page that takes longer
# is refused here with its own message instead of the worker being killed.
CONVERT_TIMEOUT_S = 20.0
OCR_PAGE_TIMEOUT_S = 12.0
OCR_MAX_PAGES = 12
OCR_DPI = 200
OCR_LANG = "chi_sim"


def _missing(program: str, package: str, what: str, what_en: str):
    return reader_error(
        "converter_missing",
        f"无法读取{what}：服务器未安装 {program}（Debian 软件包 {package}），请联系管理员安装，或另存为 docx/pdf 后上传",
        f"cannot read {what_en}: {program} is not installed on the server (Debian package {package}); "
        "install it, or save the file as docx/pdf",
    )


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def convert_to_docx(data: bytes, suffix: str) -> bytes:
    """A .doc/.wps file converted by LibreOffice headless; raises NoticeParseError when it cannot be."""
    program = soffice_path()
    if program is None:
        raise _missing("LibreOffice", "libreoffice-writer-nogui", "旧版 Word/WPS 文件", "a Word 97 or WPS file")
    with tempfile.TemporaryDirectory(prefix="luoshi-convert-") as tmp:
        source = Path(tmp) / f"notice{suffix}"
        source.write_bytes(data)
        out = Path(tmp) / "out"
        command = [
            program,
            f"-env:UserInstallation=file://{tmp}/profile",  # a private profile: conversions may run at once
            "--headless",
            "--norestore",
            # Named, so a file that is no Word document fails instead of being imported as plain text.
            "--infilter=MS Word 97",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ]
        _run(command, CONVERT_TIMEOUT_S, tmp, "转换旧版 Word/WPS 文件", "converting the Word 97/WPS file")
        result = out / "notice.docx"
        if not result.is_file():
            raise reader_error(
                "corrupt", "旧版 Word/WPS 文件已损坏或已加密，无法转换", "the Word 97/WPS file is corrupt or encrypted"
            )
        return result.read_bytes()


def _run(command: list[str], timeout_s: float, home: str, what: str, what_en: str) -> bytes:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8", "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, env=env, check=False, cwd=home)
    except subprocess.TimeoutExpired as exc:
        raise too_complex(f"{what}超过 {timeout_s:g} 秒", f"{what_en} took longer than {timeout_s:g} s") from exc
    except OSError as exc:
        raise reader_error("unreadable", f"{what}失败", f"{what_en} failed") from exc
    return done.stdout


def ocr_pdf(data: bytes) -> str:
    """The text of an image-only PDF, page by page, read by Tesseract's Simplified Chinese model."""
    program = tesseract_path()
    if program is None:
        raise _missing(
            "Tesseract",
            "tesseract-ocr tesseract-ocr-chi-sim",
            "扫描版 PDF（没有文字层）",
            "a scanned PDF (no text layer)",
        )
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise reader_error("corrupt", "PDF 文件已损坏", "the PDF is corrupt") from exc
    pages: list[str] = []
    with tempfile.TemporaryDirectory(prefix="luoshi-ocr-") as tmp:
        try:
            if len(pdf) > OCR_MAX_PAGES:
                raise too_complex(
                    f"扫描版 PDF 超过 {OCR_MAX_PAGES} 页", f"a scanned PDF of more than {OCR_MAX_PAGES} pages"
                )
            for index in range(len(pdf)):
                image = Path(tmp) / f"page{index}.png"
                pdf[index].render(scale=OCR_DPI / 72, grayscale=True).to_pil().save(image)
                command = [program, str(image), "stdout", "-l", OCR_LANG, "--psm", "6"]
                text = _run(command, OCR_PAGE_TIMEOUT_S, tmp, "文字识别", "OCR").decode("utf-8", "replace")
                pages.append(text)
                image.unlink()
        finally:
            pdf.close()
    return "\n".join(pages)
