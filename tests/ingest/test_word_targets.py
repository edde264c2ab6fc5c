"""Targets written as words keep the value they imply, apart from the figures."""

from __future__ import annotations

import pytest

from services.ingest.parsing.parser import parse_text
from services.ingest.parsing.word_targets import extract_word_targets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("力争全区地区生产总值创千亿", [("创千亿", 1000.0, "亿元")]),
        ("高新技术产业产值实现翻一番", [("翻一番", 2.0, "倍")]),
        ("农村生活污水治理实现全覆盖", [("全覆盖", 100.0, "%")]),
        ("五年翻两番，打造百亿级园区", [("翻两番", 4.0, "倍"), ("百亿级", 100.0, "亿元")]),
        # A count of such things is a figure the quantities already read, not a word target.
        ("围绕打造3个千亿级、2个百亿级产业集群", []),
        ("新增规上工业企业20家", []),
    ],
)
def test_word_targets(text: str, expected: list[tuple[str, float, str]]) -> None:
    assert [(q.text, q.value, q.unit) for q in extract_word_targets(text)] == expected


def test_a_parsed_task_carries_them_beside_its_quantities() -> None:
    notice = parse_text(
        "示政发〔2026〕1号\n关于分解落实2026年重点工作任务的通知\n一、经济发展\n"
        "1.规上工业营业收入实现翻一番，新增规上工业企业20家。（牵头领导：张三；牵头单位：县工业和信息化局）\n"
    )
    (task,) = notice.tasks
    assert [q.text for q in task.word_targets] == ["翻一番"]
    assert [(q.value, q.unit) for q in task.quantities] == [(20.0, "家")]
