"""`luoshi parse`: the parser from the command line, with the notice.parsed contract as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from proto.notice import ParsedNotice
from tests.ingest.builders import build_docx

LUOSHI = str(Path(sys.executable).parent / "luoshi")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LUOSHI, "parse", *args], capture_output=True, text=True, timeout=120)


def test_parse_json_is_the_notice_parsed_payload(shared_dir: Path, tmp_path: Path) -> None:
    notice = shared_dir / "notices" / "yanzhou-2025-work-report-tasks.txt"
    docx = tmp_path / "notice.docx"
    docx.write_bytes(build_docx(notice.read_text(encoding="utf-8")))
    for path in (notice, docx):
        result = _run(str(path), "--json")
        assert result.returncode == 0, result.stderr
        parsed = ParsedNotice.model_validate(json.loads(result.stdout))
        assert parsed.doc.doc_no == "济兖政发〔2025〕1号"
        assert len(parsed.tasks) == 72
        first = json.loads(result.stdout)["tasks"][0]
        assert set(first) >= {"number", "chapter", "text", "leaders", "host_units", "co_units", "has_etc"}
        assert {"deadline", "deadline_phrases", "quantities", "warnings"} <= set(first)


def test_parse_prints_a_table_by_default(shared_dir: Path) -> None:
    result = _run(str(shared_dir / "notices" / "jining-2023-work-report-division.txt"))
    assert result.returncode == 0, result.stderr
    assert "济政发〔2023〕1号" in result.stdout
    assert "共 155 项任务" in result.stdout


def test_parse_reports_an_unreadable_file_in_chinese(tmp_path: Path) -> None:
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    result = _run(str(bad))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "不支持" in result.stderr or "无法" in result.stderr


def test_parse_shows_each_warning_beside_its_task(tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text(
        "示政发〔2026〕3号\n\n一、任务\n\n1.推进示例工作，年底前完成。（牵头领导：王明。承办单位：曲阜市、邹城市、嘉祥县政府）\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [LUOSHI, "parse", str(notice)], capture_output=True, text=True, timeout=120, env=_wide_terminal()
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "推进示例工作" in line)
    assert "shared suffix split as written" in row  # the task's first warning, on its own row
    assert "no comma in the list" in result.stdout
    assert "未找到成文日期" in result.stdout and "no_issued_date" in result.stdout  # the notice's own


def _wide_terminal() -> dict[str, str]:
    """Rich wraps to the terminal's width; a wide one keeps each cell's first line on its row."""
    return {**os.environ, "COLUMNS": "400"}


def test_parse_summarises_rules_confidence_and_table_columns(tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text(
        "示政发〔2026〕4号\n\n一、任务\n\n1.推进示例工作。（牵头单位：甲局）\n2.推进另一工作。（乙局、丙局）\n"
        "| 序号 | 目标任务 | 牵头部门 |\n| 3 | 推进第三项工作。 | 丁局 |\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [LUOSHI, "parse", str(notice)], capture_output=True, text=True, timeout=120, env=_wide_terminal()
    )
    assert result.returncode == 0, result.stderr
    assert "按规则 / by rule：括注标签 1 项，括注单位（无标签） 1 项，表格列 1 项" in result.stdout
    assert "平均可信度" in result.stdout and "表格 1 个" in result.stdout
    assert "第3列“牵头部门”→牵头单位（表头）" in result.stdout  # which column was taken as what
