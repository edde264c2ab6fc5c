"""Column roles of a task table from header words or cell contents, with the reasons said."""

from __future__ import annotations

from services.ingest.parsing.columns import infer_layout
from services.ingest.parsing.parser import parse_text

HEAD = "某某县人民政府\n关于分解落实2024年政府工作报告任务的通知\n"


def md(rows: list[list[str]]) -> str:
    return "\n".join("| " + " | ".join(r) + " |" for r in rows) + "\n"


def test_other_header_words_name_the_roles():
    layout = infer_layout([["编号", "主要目标", "责任领导", "牵头部门", "参与单位", "时间节点", "备注"]])
    assert layout is not None
    assert layout.roles == {0: "number", 1: "task", 2: "leaders", 3: "hosts", 4: "co", 5: "deadline", 6: "note"}
    assert "第2列“主要目标”→任务内容（表头）" in layout.describe()


def test_roles_from_contents_without_header():
    rows = [
        ["1", "扩大有效投资，新增项目10个，力争投资增长8%。", "张三", "县发改局", "县财政局、各乡镇", "年底前"],
        ["2", "促进消费回补，举办促消费活动20场以上。", "李四、王五", "县商务局", "各乡镇", "2024年6月底"],
        ["3", "稳定外贸外资，实际使用外资增长5%。", "副县长赵六", "县商务局", "", "长期坚持"],
    ]
    layout = infer_layout(rows)
    assert layout is not None and layout.header_rows == 0
    assert layout.roles == {0: "number", 1: "task", 2: "leaders", 3: "hosts", 4: "co", 5: "deadline"}
    text = layout.describe()
    assert (
        "表格无表头" in text and "第3列→牵头领导（内容为人名或职务）" in text and "第2列→任务内容（文字最长）" in text
    )


def test_caption_and_two_row_header_and_repeated_header_rows():
    notice = parse_text(
        HEAD
        + md(
            [
                ["2024年重点任务分解表", "", "", "", ""],
                ["序号", "具体任务", "责任单位", "", "完成时限"],
                ["", "", "牵头单位", "配合单位", ""],
                ["1", "扩大投资。", "县发改局", "县财政局", "年底前"],
                ["序号", "具体任务", "责任单位", "", "完成时限"],
                ["", "", "牵头单位", "配合单位", ""],
                ["2", "促进消费。", "县商务局", "各乡镇", "6月底前"],
            ]
        )
    )
    assert [(t.number, t.host_units, t.co_units) for t in notice.tasks] == [
        (1, ["县发改局"], ["县财政局"]),
        (2, ["县商务局"], ["各乡镇"]),
    ]
    (note,) = [w.message for w in notice.warnings if w.code == "table_columns"]
    assert "表头占两行" in note


def test_table_without_a_number_column_numbers_rows_in_order():
    notice = parse_text(HEAD + md([["工作任务", "责任单位"], ["扩大投资。", "县发改局"], ["促进消费。", "县商务局"]]))
    assert [(t.number, t.text) for t in notice.tasks] == [(1, "扩大投资。"), (2, "促进消费。")]
    assert all("table_unnumbered" in {w.code for w in t.warnings} for t in notice.tasks)


def test_chapter_column_and_a_task_column_split_in_two():
    notice = parse_text(
        HEAD
        + md(
            [
                ["类别", "序号", "重点任务", "工作措施", "牵头单位"],
                ["一、稳增长", "1", "扩大投资", "新增项目10个。", "县发改局"],
                ["", "2", "促进消费", "举办活动20场。", "县商务局"],
                ["三、惠民生", "3", "稳定就业", "新增就业500人。", "县人社局"],
            ]
        )
    )
    assert [(t.number, t.chapter, t.text) for t in notice.tasks] == [
        (1, "一", "扩大投资：新增项目10个。"),
        (2, "一", "促进消费：举办活动20场。"),
        (3, "三", "稳定就业：新增就业500人。"),
    ]


def test_a_table_of_no_tasks_is_not_read_as_tasks():
    assert infer_layout([["指标", "2023年", "2024年"], ["GDP", "6%", "6.5%"]]) is None


def test_rows_flattened_to_text_with_units_at_the_end():
    notice = parse_text(
        HEAD
        + "一、稳增长\n"
        + "1 新增规上工业企业20家，年底前完成 工业和信息化局\n"
        + "2\t培育专精特新企业10家，\n全年完成。  张三    县工信局、县科技局\t各乡镇\n"
        + "3  加强营商环境建设，打造一流\u3000县政府办公室\n"
    )
    t5, t6, t7 = notice.tasks
    assert (t5.number, t5.text, t5.host_units) == (1, "新增规上工业企业20家，年底前完成", ["工业和信息化局"])
    assert (t6.text, t6.leaders, t6.host_units, t6.co_units) == (
        "培育专精特新企业10家，全年完成。",
        ["张三"],
        ["县工信局", "县科技局"],
        ["各乡镇"],
    )
    assert t7.host_units == ["县政府办公室"] and "flat_row" in {w.code for w in t7.warnings}


def test_prose_with_a_gap_is_not_cut_into_cells():
    notice = parse_text(
        HEAD + "一、稳增长\n1.在建设现代化产业体系上强力  突破，推动政府  改革。（牵头单位：县发改局）\n"
    )
    (t,) = notice.tasks
    assert t.text.startswith("在建设现代化产业体系上强力突破") and t.host_units == ["县发改局"]


def test_a_category_column_without_ordinals_numbers_its_chapters():
    notice = parse_text(
        HEAD
        + md(
            [
                ["领域", "序号", "工作任务", "牵头单位"],
                ["工业经济", "1", "扩大投资。", "县发改局"],
                ["工业经济", "2", "促进消费。", "县商务局"],
                ["民生保障", "3", "稳定就业。", "县人社局"],
            ]
        )
    )
    assert [(c.ordinal, c.title) for c in notice.chapters] == [("一", "工业经济"), ("二", "民生保障")]
    assert [t.chapter for t in notice.tasks] == ["一", "一", "二"]


def test_number_cells_in_parentheses():
    notice = parse_text(
        HEAD
        + md([["序号", "工作任务", "牵头单位"], ["（1）", "扩大投资。", "县发改局"], ["(2)", "促进消费。", "县商务局"]])
    )
    assert [t.number for t in notice.tasks] == [1, 2]


def test_lead_marks_on_units_and_posts_beside_names():
    notice = parse_text(
        HEAD
        + md(
            [
                ["序号", "工作任务", "责任领导", "责任单位"],
                ["1", "扩大投资。", "张三（副县长）", "县发改局（牵头）、县财政局"],
                ["2", "促进消费。", "副县长李四", "县商务局牵头，各乡镇配合"],
            ]
        )
    )
    text = parse_text(HEAD + "一、稳增长\n1.稳定外贸。（责任单位：县商务局（牵头）、县财政局）\n")
    assert [(t.leaders, t.host_units, t.co_units) for t in notice.tasks + text.tasks] == [
        (["张三"], ["县发改局"], ["县财政局"]),
        (["李四"], ["县商务局"], ["各乡镇"]),
        ([], ["县商务局"], ["县财政局"]),
    ]
    assert not any(w.code == "responsible_as_hosts" for t in notice.tasks + text.tasks for w in t.warnings)


def test_names_set_one_per_line_in_a_cell_stay_apart_and_a_wrapped_header_reads():
    import io

    import docx

    from services.ingest.parsing.api import parse_document

    document = docx.Document()
    document.add_paragraph("某某县人民政府关于分解任务的通知")
    table = document.add_table(rows=2, cols=4)
    for cell, text in zip(table.rows[0].cells, ["序号", "工作任务", "牵头领导", "责任单位"], strict=True):
        cell.text = text
    table.rows[0].cells[0].text = "序"
    table.rows[0].cells[0].add_paragraph("号")  # a header wrapped in its cell
    number, task, leaders, units = table.rows[1].cells
    number.text = "1"
    task.text = "扩大有效投资，"
    task.add_paragraph("力争增长8%。")
    leaders.text = "张三"
    leaders.add_paragraph("李四")
    units.text = "县发改局（牵头）"
    units.add_paragraph("县财政局")
    document.add_paragraph("")
    out = io.BytesIO()
    document.save(out)
    (t,) = parse_document(out.getvalue(), "n.docx").tasks
    assert (t.text, t.leaders, t.host_units, t.co_units) == (
        "扩大有效投资，力争增长8%。",
        ["张三", "李四"],
        ["县发改局"],
        ["县财政局"],
    )
