"""Synthetic snippets for each parsing module, including layouts the shared notices do not use."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest

from services.ingest.parsing.assignments import Declarations, parse_assignment, split_block, split_units
from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.header import normalise_doc_no, parse_header, parse_indicators
from services.ingest.parsing.normalise import clean_line, join_lines, normalise_lines
from services.ingest.parsing.parser import parse_text
from services.ingest.parsing.structure import parse_structure

HEAD = "某某县人民政府\n关于分解落实2024年政府工作报告任务的通知\n各乡镇人民政府，县直各部门：\n"


def codes(task) -> set[str]:
    return {w.code for w in task.warnings}


# -- normalise --------------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["—10—", "- 23 -", "<u>6</u>", "12", "第 3 页", "---", "－ 5 －"])
def test_page_numbers_and_rules_vanish(line):
    assert clean_line(line) == ""


def test_page_number_glued_inside_a_name_is_removed_and_lines_join():
    lines = normalise_lines("承办单位：区住房城乡建设—10—\n\n局、区综合行政执法局")
    assert join_lines(lines) == "承办单位：区住房城乡建设局、区综合行政执法局"


def test_page_number_between_words_mid_sentence():
    assert join_lines(normalise_lines("民主党派、工商联、无党\n- 55 -\n派人士")) == "民主党派、工商联、无党派人士"


def test_bullet_after_page_break_inside_a_quoted_name():
    lines = normalise_lines('省委省政府"八—20—\n\n- 抓 20 条"创新措施')
    assert join_lines(lines) == '省委省政府"八抓20条"创新措施'


def test_markdown_bookmark_latex_width_and_variants():
    assert clean_line("## **二、聚力工业经济**") == "**二、聚力工业经济**"
    assert clean_line(" - 8.实施高企倍增计划") == "8.实施高企倍增计划"
    assert clean_line("[bookmark: OLE_LINK2]14.推动消费") == "14.推动消费"
    assert clean_line("确保 PM_{2.5}年均浓度") == "确保PM2.5年均浓度"
    assert clean_line("新增１２家，ＧＤＰ增长") == "新增12家，GDP增长"
    assert clean_line("济兗政发〔2020〕1号") == "济兖政发〔2020〕1号"
    assert clean_line("区 科学技术局、孙 恒民") == "区科学技术局、孙恒民"
    assert clean_line("⼀期项目") == "一期项目"


def test_task_number_alone_on_its_line_joins_its_text():
    assert normalise_lines("12.\n推进项目建设。") == ["12.推进项目建设。"]


# -- header -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("济兖政发[2025]1号", "济兖政发〔2025〕1号"),
        ("济政发〔2023〕1 号", "济政发〔2023〕1号"),
        ("济兗政发〔2020〕1号", "济兖政发〔2020〕1号"),
        ("某政办字（2024）07号", "某政办字〔2024〕7号"),
    ],
)
def test_doc_no_forms(raw, want):
    assert normalise_doc_no(clean_line(raw)) == want


def test_signature_date_not_the_printing_date():
    lines = normalise_lines(
        "某政发〔2024〕3号\n"
        + HEAD
        + "1.做好工作。\n某某县人民政府 2024年2月1日\n某某县人民政府办公室\n2024年2月3日印发"
    )
    doc = parse_header(lines).doc
    assert doc.issued_date == date(2024, 2, 1)
    assert doc.year == 2024
    assert doc.title == "某某县人民政府关于分解落实2024年政府工作报告任务的通知"
    assert doc.addressees == ["各乡镇人民政府", "县直各部门"]


def test_indicators_from_prose():
    got = parse_indicators("主要预期目标为: GDP 增长 6%, 一般公共预算收入增长 4%, 城乡居民收入增长与经济增长同步。")
    assert [(i.name, i.value, i.unit) for i in got] == [
        ("GDP", 6.0, "%"),
        ("一般公共预算收入", 4.0, "%"),
        ("城乡居民收入", None, None),
    ]


# -- structure --------------------------------------------------------------------------------


def test_digit_led_continuation_is_not_a_task():
    s = parse_structure(
        normalise_lines("一、稳就业\n1．城镇新增就业 6.3 万人，培训\n1.5 万人，扶持创业\n350 亿元。\n2．做好社保。")
    )
    assert [t.number for t in s.tasks] == [1, 2]


def test_heading_and_task_share_a_line_and_heading_wraps():
    s = parse_structure(
        normalise_lines(
            "一、聚焦开放，在格局上 强力突破 1.引进外资。\n二、聚焦港航物流，在枢纽城市上\n开拓新局面\n2.建设港口。"
        )
    )
    assert [(c.ordinal, c.title) for c in s.chapters] == [
        ("一", "聚焦开放，在格局上强力突破"),
        ("二", "聚焦港航物流，在枢纽城市上开拓新局面"),
    ]
    assert [(t.number, t.chapter) for t in s.tasks] == [(1, "一"), (2, "二")]


def test_cover_letter_list_is_not_taken_for_tasks():
    s = parse_structure(
        normalise_lines("1.各单位要高度重视。\n2.按月报送进展。\n一、稳增长\n1.扩大投资。\n2.促进消费。")
    )
    assert [(t.number, t.chapter) for t in s.tasks] == [(1, "一"), (2, "一")]


def test_numbering_restarting_in_each_chapter_and_star_marks():
    s = parse_structure(normalise_lines("一、甲\n★1、任务甲一。\n2、任务甲二。\n二、乙\n1、任务乙一。"))
    assert [(t.number, t.chapter) for t in s.tasks] == [(1, "一"), (2, "一"), (1, "二")]


def test_chinese_numbered_tasks_when_no_arabic_ones():
    s = parse_structure(normalise_lines("一、稳增长\n（一）扩大投资。\n（二）促进消费。\n二、惠民生\n（一）稳就业。"))
    assert [(t.number, t.chapter) for t in s.tasks] == [(1, "一"), (2, "一"), (1, "二")]


def test_space_delimited_numbers():
    s = parse_structure(normalise_lines("一、甲\n1 扩大投资。\n2 促进消费，新增\n3 家企业。"))
    assert [t.number for t in s.tasks] == [1, 2]


# -- assignments ------------------------------------------------------------------------------


def test_inline_half_width_with_bold_declared_but_lost():
    text, assign, form = split_block(
        "做强企业。(牵头领导:石可清。承办单位:区工业和信息化局、区发展改革局,工业园区,各镇街。黑体为主办单位,其他为协办单位,下同)"
    )
    assert (text, form) == ("做强企业。", "inline")
    decl = Declarations()
    a = parse_assignment(assign, form, decl)
    assert a.leaders == ["石可清"]
    assert a.host_units == ["区工业和信息化局", "区发展改革局"]
    assert a.co_units == ["工业园区", "各镇街"]
    assert decl.bold_hosts
    assert "host_first_group" in {w.code for w in a.warnings}


def test_bold_clean_prefix_gives_hosts():
    decl = Declarations(bold_hosts=True)
    _, assign, form = split_block("任务。（牵头领导：甲。承办单位：**区工信局**，区发改局，各镇街）")
    a = parse_assignment(assign, form, decl)
    assert (a.host_units, a.co_units) == (["区工信局"], ["区发改局", "各镇街"])
    assert not a.warnings


def test_bold_over_whole_list_and_half_width_close_paren_fall_back():
    decl = Declarations(bold_hosts=True)
    _, assign, form = split_block("任务。（**牵头领导：甲。承办单位：区商务局，工业园区、各镇街)**")
    a = parse_assignment(assign, form, decl)
    assert (a.leaders, a.host_units, a.co_units) == (["甲"], ["区商务局"], ["工业园区", "各镇街"])
    assert "host_first_group" in {w.code for w in a.warnings}


def test_no_comma_makes_all_hosts_and_flags_collectives():
    _, assign, form = split_block("任务。（牵头领导：甲。承办单位：区直各部门、各镇街）")
    a = parse_assignment(assign, form, Declarations())
    assert a.host_units == ["区直各部门", "各镇街"]
    assert {"no_comma_all_hosts", "collective_in_hosts"} <= {w.code for w in a.warnings}


def test_separate_label_lines():
    block = join_lines(
        ["做好普查。", "牵头领导：王宏伟", "牵头单位：市统计局", "责任单位：各县（市、区）政府，济宁高", "新区等"]
    )
    text, assign, form = split_block(block)
    a = parse_assignment(assign, form, Declarations())
    assert (text, form) == ("做好普查。", "lines")
    assert (a.leaders, a.host_units, a.co_units, a.has_etc) == (
        ["王宏伟"],
        ["市统计局"],
        ["各县（市、区）政府", "济宁高新区"],
        True,
    )


@pytest.mark.parametrize(
    ("label_host", "label_co"),
    [("牵头责任单位", "配合单位"), ("主办单位", "协办单位"), ("牵头单位", "参与单位"), ("牵头单位", "责任单位")],
)
def test_other_label_words(label_host, label_co):
    _, assign, form = split_block(f"任务。（责任领导：甲、乙；{label_host}：区发改局；{label_co}：区财政局、区统计局）")
    a = parse_assignment(assign, form, Declarations())
    assert (a.leaders, a.host_units, a.co_units) == (["甲", "乙"], ["区发改局"], ["区财政局", "区统计局"])


def test_responsible_units_alone_name_the_lead():
    _, assign, form = split_block("任务。（责任单位：区发改局、区财政局）")
    a = parse_assignment(assign, form, Declarations())
    assert a.host_units == ["区发改局", "区财政局"] and a.co_units == []
    assert "responsible_as_hosts" in {w.code for w in a.warnings}


def test_unlabelled_list_with_first_unit_declared():
    decl = Declarations()
    decl.absorb("各单位要认真落实，责任单位中排序第一单位为牵头单位。")
    text, assign, form = split_block("推进农村改革。（区发改局、农业局、财政局）")
    a = parse_assignment(assign, form, decl)
    assert (text, form) == ("推进农村改革。", "unlabelled")
    assert (a.host_units, a.co_units) == (["区发改局"], ["农业局", "财政局"])


def test_ordinary_closing_paren_is_not_a_unit_list():
    assert split_block("建设项目（二期）。")[2] == "none"
    assert split_block("实施行动（2023-2025年）")[2] == "none"


def test_units_split_outside_parens_and_names_containing_a_dunhao():
    units = split_units("市科技、人才招引工作指挥部，市政府各部门、单位，各县（市、区）政府，区发改局等")
    assert units.units == ["市科技、人才招引工作指挥部", "市政府各部门、单位", "各县（市、区）政府", "区发改局"]
    assert units.has_etc
    shared = split_units("曲阜市、邹城市、嘉祥县政府")
    assert shared.units == ["曲阜市", "邹城市", "嘉祥县政府"]
    assert "shared_suffix" in {w.code for w in shared.warnings}


# -- whole notices ----------------------------------------------------------------------------


def test_chapter_leaders_apply_to_every_task_below():
    notice = parse_text(
        HEAD
        + "一、加快动能转换（牵头领导：张三、李四）\n1.培育企业。（牵头单位：区工信局）\n2.扩大投资。（牵头单位：区发改局）\n"
        + "二、改善民生\n牵头领导：王五\n3.稳就业。（牵头单位：区人社局）"
    )
    assert [c.title for c in notice.chapters] == ["加快动能转换", "改善民生"]
    assert [t.leaders for t in notice.tasks] == [["张三", "李四"], ["张三", "李四"], ["王五"]]


def test_markdown_table_rows():
    notice = parse_text(
        HEAD
        + "| 序号 | 工作任务 | 牵头领导 | 牵头单位 | 责任单位 | 完成时限 |\n|---|---|---|---|---|---|\n"
        + "| 一、稳增长 | | | | | |\n"
        + "| 1 | 扩大有效投资，新增项目 10 个。 | 张三 | 县发改局 | 县财政局、各乡镇 | 年底前 |\n"
        + "| | 力争投资增长 8%。 | | | | |\n"
        + "| 2 | 促进消费。 | 李四 | 县商务局 | 各乡镇 | 6月底 |\n"
    )
    t1, t2 = notice.tasks
    assert (t1.number, t1.chapter, t1.text) == (1, "一", "扩大有效投资，新增项目10个。力争投资增长8%。")
    assert (t1.leaders, t1.host_units, t1.co_units) == (["张三"], ["县发改局"], ["县财政局", "各乡镇"])
    assert (t2.host_units, t2.co_units) == (["县商务局"], ["各乡镇"])


def test_tab_separated_table_rows():
    notice = parse_text(
        HEAD + "序号\t工作任务\t牵头领导\t牵头单位\t责任单位\n1\t扩大投资。\t张三\t县发改局\t县财政局\n"
    )
    (t,) = notice.tasks
    assert (t.text, t.leaders, t.host_units, t.co_units) == ("扩大投资。", ["张三"], ["县发改局"], ["县财政局"])


def test_task_without_assignment_is_kept_and_flagged():
    notice = parse_text(HEAD + "一、组织实施\n1.加强组织领导。\n2.强化督导检查。")
    assert [t.number for t in notice.tasks] == [1, 2]
    assert all("no_assignment" in codes(t) for t in notice.tasks)


def test_no_tasks_raises():
    with pytest.raises(NoticeParseError) as err:
        parse_text(HEAD + "请认真贯彻执行。")
    assert err.value.code == "no_tasks"


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "payload",
    ["（" * 20000 + "牵头单位：" + "区发改局、" * 5000, "1." * 30000, "、" * 50000 + "）", "—1" * 40000, " " * 100000],
)
def test_pathological_input_does_not_hang(payload):
    with contextlib.suppress(NoticeParseError):
        parse_text(HEAD + "一、甲\n1.任务。" + payload)


def test_footer_needs_a_signature_not_just_words():
    notice = parse_text(
        "某政发〔2024〕3号\n" + HEAD + "一、甲\n1．制定实施方案并印发\n执行。\n牵头单位：某某县人民政府\n"
        "2．做好宣传。\n某某县人民政府\n2024年3月1日\n（此件公开发布）"
    )
    assert [t.number for t in notice.tasks] == [1, 2]
    assert notice.tasks[0].text == "制定实施方案并印发执行。"
    assert notice.tasks[0].host_units == ["某某县人民政府"]
    assert notice.doc.issued_date == date(2024, 3, 1)


def test_indicators_from_a_target_chapter_with_tasks():
    notice = parse_text(HEAD + "一、2024年主要预期目标\n1．地区生产总值增长5.5%以上、力争6%。\n牵头单位：县发改局")
    assert [(i.name, i.value, i.unit) for i in notice.indicators] == [("地区生产总值", 5.5, "%")]
