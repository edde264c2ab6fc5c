from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.parsing.deadlines import extract_deadline_phrases, phrase_due_date, resolve_deadline
from tests.ingest.gold import NOTICES, load_gold
from tests.ingest.gold_texts import gold_tasks

EXACT_TARGET = 0.95


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "年内工业营收创千亿,力争3年左右突破2000亿。一期项目上半年投产,二期年底建成。年内完成",
            ["年内", "3年左右", "上半年", "年底"],
        ),
        ("全年举办活动10场以上", ["全年"]),
        ("年底前完成全部村庄生活污水治理", ["年底前"]),
        ("到2023年，招引落地投资亿元以上项目", ["到2023年"]),
        ("推进学前教育普惠发展，2023年新建改扩建幼儿园4所", ["2023年"]),
        ("6月底前完成摸底，9月前启动，10月份验收", ["6月底前", "9月前", "10月份"]),
        ("一季度开工，第三季度末前完工，前三季度完成投资", ["一季度", "第三季度末前", "前三季度"]),
        ("到2025年底建成，2024年6月底前完成，2023年底前验收", ["到2025年底", "2024年6月底前", "2023年底前"]),
        ("下半年投产，两年内见效，十二月底前交付", ["下半年", "两年内", "十二月底前"]),
        ("2023年12月31日前完成，今年底前验收，三季度末投运", ["2023年12月31日前", "年底前", "三季度末"]),
    ],
)
def test_phrases(text: str, expected: list[str]) -> None:
    assert extract_deadline_phrases(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "深入推进安全生产治本攻坚三年行动",
        "实施居民收入十年“双倍增”行动",
        "完成年度整改任务，编制年度投资计划",
        "尽早谋划，尽快落地，适时启动",
        "每月调度一次，每季度通报，每年年底考核",
        "预支2023年新增用地指标保障支持",
        "列为2023年度水土流失治理项目",
        "加快推进2023年列入省现代水网建设清单的项目",
        "截至去年底，上年底已完成，3个月内办结，2年前建成",
        "截至2022年底，已建成示范村10个",
        "编制《兖州区2023年工作要点》",
        "PM2.5年均浓度下降",
    ],
)
def test_not_phrases(text: str) -> None:
    assert extract_deadline_phrases(text) == []


def test_whitespace_is_ignored() -> None:
    assert extract_deadline_phrases("力争 3 年左右 突破，6 月 底前") == ["3年左右", "6月底前"]


@pytest.mark.parametrize(
    ("phrase", "due"),
    [
        ("年内", date(2025, 12, 31)),
        ("全年", date(2025, 12, 31)),
        ("年底前", date(2025, 12, 31)),
        ("上半年", date(2025, 6, 30)),
        ("6月底前", date(2025, 6, 30)),
        ("6月前", date(2025, 5, 31)),
        ("2月份", date(2025, 2, 28)),
        ("6月30日前", date(2025, 6, 30)),
        ("一季度", date(2025, 3, 31)),
        ("前三季度", date(2025, 9, 30)),
        ("3年左右", date(2027, 12, 31)),
        ("到2023年", date(2023, 12, 31)),
        ("2026年6月底前", date(2026, 6, 30)),
        ("2026年前", date(2025, 12, 31)),
        ("2023.12.31", date(2023, 12, 31)),
        ("长期坚持", None),
        ("《2023年》", None),
    ],
)
def test_phrase_due_date(phrase: str, due: date | None) -> None:
    assert phrase_due_date(phrase, 2025) == due


def test_governing_deadline_is_the_latest() -> None:
    deadline = resolve_deadline(["年内", "上半年", "年底"], 2025)
    assert deadline is not None
    assert (deadline.phrase, deadline.due_date) == ("年内", date(2025, 12, 31))
    deadline = resolve_deadline(["年内", "3年左右", "上半年"], 2025)
    assert deadline is not None
    assert (deadline.phrase, deadline.due_date) == ("3年左右", date(2027, 12, 31))


def test_default_and_missing_year() -> None:
    default = resolve_deadline([], 2024)
    assert default is not None
    assert (default.phrase, default.due_date) == ("", date(2024, 12, 31))
    unresolved = resolve_deadline(["长期坚持"], 2024)
    assert unresolved is not None
    assert unresolved.phrase == ""
    assert resolve_deadline(["年内"], None) is None
    assert resolve_deadline([], None) is None
    from_issued = resolve_deadline(["上半年"], None, issued=date(2023, 2, 1))
    assert from_issued is not None
    assert from_issued.due_date == date(2023, 6, 30)
    own_year = resolve_deadline(["年内", "到2025年"], None)
    assert own_year is not None
    assert (own_year.phrase, own_year.due_date) == ("到2025年", date(2025, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789年月日内底前末上下半全季度第一二两三九十左右之以到每度个去。，")),
        max_size=40,
    )
)
def test_any_text_gives_resolvable_substrings(text: str) -> None:
    phrases = extract_deadline_phrases(text)
    assert len(phrases) == len(set(phrases))
    for phrase in phrases:
        assert phrase in text
    resolve_deadline(phrases, 2025)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_is_safe(text: str) -> None:
    resolve_deadline(extract_deadline_phrases(text), 2025)
    resolve_deadline([text], 2025)


@pytest.mark.parametrize(
    "payload",
    [
        "1" * 200_000 + "x",
        "1-" * 100_000,
        "1." * 100_000,
        '"1' * 100_000,
        "1年" * 100_000,
        "年" * 200_000,
        "1个-" * 30_000,
        "《年内》" * 50_000,
        "".join(f"{2000 + i % 100}年{i % 12 + 1}月{i % 28 + 1}日前，" for i in range(20_000)),
    ],
)
@pytest.mark.timeout(10)
def test_pathological_input_does_not_hang(payload: str) -> None:
    # A hang guard, not a speed measurement (that is bench/): pytest-timeout fails a test that runs away.
    extract_deadline_phrases(payload)


def test_gold_phrases_per_notice() -> None:
    rows, misses = [], []
    for name in NOTICES:
        year = load_gold(name)["doc"]["year"]
        tasks = gold_tasks(name)
        exact = 0
        for task in tasks:
            got = extract_deadline_phrases(task.text)
            if got == task.gold["deadline_phrases"]:
                exact += 1
            else:
                misses.append((name, task.number, got, task.gold["deadline_phrases"]))
            assert resolve_deadline(got, year) is not None
        rows.append((name, exact, len(tasks)))
    print("\nnotice                                 exact  tasks")
    for name, exact, total in rows:
        print(f"{name:38} {exact:5} {total:6}")
    for miss in misses:
        print("miss:", *miss)
    assert len(rows) == 5
    assert all(exact >= EXACT_TARGET * total for _, exact, total in rows), misses
