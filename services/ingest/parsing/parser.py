"""`parse_text`: a notice's text to a `ParsedNotice` (header, chapters, tasks, assignments)."""

from __future__ import annotations

from collections import Counter

from proto.notice import Chapter, ParsedNotice, ParsedTask, ParseWarning
from services.common.params import NAME_MAX, PERSON_MAX
from services.ingest.parsing.assignments import (
    Declarations,
    chapter_leaders,
    labelled_values,
    parse_assignment,
    split_block,
    split_people,
)
from services.ingest.parsing.confidence import review_reasons, task_confidence
from services.ingest.parsing.deadlines import extract_deadline_phrases, resolve_deadline
from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.flatrows import CELL_MARK, mark_trailing_cells, trailing_cells
from services.ingest.parsing.header import parse_header, parse_indicator, parse_indicators
from services.ingest.parsing.milestones import extract_milestones
from services.ingest.parsing.normalise import compact, join_lines, normalise_lines, strip_bold
from services.ingest.parsing.quantities import extract_quantities
from services.ingest.parsing.structure import ChapterBlock, TaskBlock, parse_structure
from services.ingest.parsing.word_targets import extract_word_targets

OCR_WARNING = ParseWarning(
    code="ocr", message="任务文字由扫描图像识别（OCR）得到，请核对原文 / text recognised from a scanned image (OCR)"
)
HEADER_LINES = 60  # the doc number, title and addressees stand within the first lines


def clean_task_text(text: str) -> str:
    return join_lines([strip_bold(text).strip()]).strip()


def _chapter(block: ChapterBlock) -> Chapter:
    title = block.title.replace(CELL_MARK, "")
    leaders: list[str] = []
    head, assignment, form = split_block(title)
    if assignment is not None and form != "unlabelled":
        title = compact(head)
        leaders = [p for kind, v in labelled_values(assignment) for p in split_people(v) if kind == "leaders"]
    if not leaders:
        leaders = chapter_leaders([line.replace(CELL_MARK, "") for line in block.lines])
    return Chapter(ordinal=block.ordinal, title=compact(title), leaders=leaders)


def _fit(names: list[str], limit: int, warnings: list[ParseWarning]) -> list[str]:
    """Names cut to what the registry stores; a name that long is a misread the office should see."""
    if all(len(n) <= limit for n in names):
        return names
    warnings.append(
        ParseWarning(
            code="name_too_long", message=f"名称超过 {limit} 字，已截断 / a name over {limit} characters was cut"
        )
    )
    return [n[:limit] for n in names]


def _task(block: TaskBlock, decl: Declarations, chapter: Chapter | None, year, issued) -> ParsedTask:
    cells = block.cells
    flat_note: list[ParseWarning] = []
    if cells is not None:
        text, assignment_text, form, rule = cells.get("task", ""), None, "table", "table"
    else:
        text, cells = trailing_cells(join_lines(block.lines))
        if cells is None:
            text, assignment_text, form = split_block(text)
            rule = form
        else:
            text, assignment_text, form, rule = text.replace(CELL_MARK, ""), None, "table", "flat_row"
            flat_note.append(
                ParseWarning(
                    code="flat_row",
                    message="行末的领导和单位按表格列读取（无标签） / trailing names read as the row's cells",
                )
            )
    assignment = parse_assignment(assignment_text, form, decl, cells=cells)
    warnings = [ParseWarning(code=c, message=m) for c, m in block.warnings] + flat_note + assignment.warnings
    leaders = assignment.leaders
    if not leaders and chapter is not None and chapter.leaders:
        leaders = list(chapter.leaders)
    if not assignment.found:
        rule = "none"
        warnings.append(ParseWarning(code="no_assignment", message="未找到牵头领导或承办单位 / no assignment found"))
    leaders = _fit(leaders, PERSON_MAX, warnings)
    host_units, co_units = (
        _fit(assignment.host_units, NAME_MAX, warnings),
        _fit(assignment.co_units, NAME_MAX, warnings),
    )
    task_text = clean_task_text(text)
    phrases = extract_deadline_phrases(task_text)
    if assignment.deadline_text:
        for phrase in extract_deadline_phrases(assignment.deadline_text) or [assignment.deadline_text]:
            if phrase not in phrases:
                phrases.append(phrase)
    return ParsedTask(
        number=block.number,
        chapter=block.chapter,
        text=task_text,
        leaders=leaders,
        host_units=host_units,
        co_units=co_units,
        has_etc=assignment.has_etc,
        deadline=resolve_deadline(phrases, year, issued),
        deadline_phrases=phrases,
        quantities=extract_quantities(task_text),
        milestones=extract_milestones(task_text, year, issued, phrases),
        word_targets=extract_word_targets(task_text),
        rule=rule,
        warnings=warnings,
    )


def _hoist_recurring(tasks: list[ParsedTask], threshold: int = 10) -> list[ParseWarning]:
    """A shared-suffix list repeated in many tasks is one fact: report it once for the notice."""
    counts = Counter(w.message for t in tasks for w in t.warnings if w.code == "shared_suffix")
    recurring = {m for m, c in counts.items() if c >= threshold}
    for t in tasks:
        t.warnings = [w for w in t.warnings if w.message not in recurring]
    return [ParseWarning(code="shared_suffix", message=f"{m}（出现于{counts[m]}项任务）") for m in sorted(recurring)]


def parse_text(text: str, *, source_name: str | None = None, ocr: bool = False) -> ParsedNotice:
    """Parse a notice's full text (bold marked `**…**`) into the `notice.parsed` contract.

    `ocr`: the text was recognised from a scan; every task is warned and trusted less.
    """
    lines = normalise_lines(mark_trailing_cells(text))
    if not lines:
        raise NoticeParseError("empty", "文件没有可读的文字 / the document has no readable text")
    header = parse_header([line.replace(CELL_MARK, "") for line in lines[:HEADER_LINES]] + lines[HEADER_LINES:])
    structure = parse_structure(lines[header.title_end :], issuer=header.doc.issuer)
    if not structure.tasks:
        where = f"（{source_name}）" if source_name else ""
        raise NoticeParseError("no_tasks", f"未找到任何编号任务{where} / no numbered tasks found")
    decl = Declarations()
    decl.absorb("".join(structure.preamble).replace(CELL_MARK, ""))
    chapters = [_chapter(c) for c in structure.chapters]
    by_ordinal = {c.ordinal: c for c in chapters}
    prose = "\n".join(structure.preamble + [x for c in structure.chapters for x in c.lines])
    indicators = parse_indicators(join_lines(prose.replace(CELL_MARK, "").splitlines()))
    year, issued = header.doc.year, header.doc.issued_date
    tasks = [_task(b, decl, by_ordinal.get(b.chapter or ""), year, issued) for b in structure.tasks]
    # Where the 主要预期目标 chapter carries numbered tasks, each task states one indicator.
    target_chapters = {c.ordinal for c in chapters if "预期目标" in c.title or "主要目标" in c.title}
    for t in tasks:
        if t.chapter in target_chapters and (indicator := parse_indicator(t.text.split("、")[0])) is not None:
            indicators.append(indicator)
    warnings = _hoist_recurring(tasks)
    warnings += [
        ParseWarning(code="table_columns", message=f"表格列识别：{note} / table columns read as listed")
        for note in structure.table_notes
    ]
    if header.doc.doc_no is None:
        warnings.append(ParseWarning(code="no_doc_no", message="未找到文号 / no document number found"))
    if header.doc.issued_date is None:
        warnings.append(ParseWarning(code="no_issued_date", message="未找到成文日期 / no signature date found"))
    if ocr:
        for t in tasks:
            t.warnings.append(OCR_WARNING)
        warnings.append(OCR_WARNING)
    for t in tasks:
        t.confidence = task_confidence(t, ocr=ocr)
    notice = ParsedNotice(doc=header.doc, indicators=indicators, chapters=chapters, tasks=tasks, warnings=warnings)
    notice.review = review_reasons(notice, text_chars=sum(map(len, lines)), ocr=ocr)
    if notice.review:
        notice.warnings.append(
            ParseWarning(
                code="needs_review",
                message="解析存疑（"
                + "；".join(r.split(" / ")[0] for r in notice.review)
                + "），请核对；未选择督办状态的新通知按“参考”登记，核对后改为“督办中” / the parse is doubtful: "
                "a new notice uploaded without a supervision choice is registered as reference until checked",
            )
        )
    return notice
