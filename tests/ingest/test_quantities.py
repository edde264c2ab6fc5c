from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.parsing.quantities import extract_quantities
from tests.ingest.gold import NOTICES
from tests.ingest.gold_texts import GoldTask, gold_tasks

F1_TARGET = 0.95


def pairs(text: str) -> list[tuple[float, str]]:
    return [(q.value, q.unit) for q in extract_quantities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("年内新增高企30家、突破200 家", [(30, "家"), (200, "家")]),
        ("举办各类活动3550余场", [(3550, "场")]),
        ("打造省4A级新型数据中心1个、企业数据资产入表闭环案例3个", [(1, "个"), (3, "个")]),
        ("力争3年左右突破2000亿。", [(2000, "亿")]),
        ("配套建设2×5 万千瓦背压机组", [(5, "万千瓦")]),
        ("50亿元以上项目1个", [(50, "亿元"), (1, "个")]),
        ("10个超50亿项目", [(10, "个"), (50, "亿")]),
        ("过3000万美元项目", [(3000, "万美元")]),
        (
            "存栏0.38万头，优良率98.92%，投资2亿欧元，争取26亿资金",
            [(0.38, "万头"), (98.92, "%"), (2, "亿欧元"), (26, "亿")],
        ),
        ("接待游客突破6300万人次，新增就业6.3万人", [(6300, "万人次"), (6.3, "万人")]),
        (
            "集装箱吞吐量达到12万标箱，装机1.1GW、71MW，一期60GWh",
            [(12, "万标箱"), (1.1, "GW"), (71, "MW"), (60, "GWh")],
        ),
        ("淘汰35蒸吨及以下燃煤锅炉", [(35, "蒸吨")]),
        ("占比提高3个百分点，优秀率前进2个位次", [(3, "个百分点"), (2, "个位次")]),
        ("新建5G基站2600个", [(2600, "个")]),
        ("使用频率最高的前100项电子证照", [(100, "项")]),
        ("新增１２家", [(12, "家")]),
        ("融资10亿人民币", [(10, "亿")]),
        ("新增城镇就业1.2万人以上，城镇调查失业率控制在5.5%以内", [(1.2, "万人"), (5.5, "%")]),
        ("举办培训班20期，压缩至5个工作日", [(20, "期")]),
        ("300余家、100多家，1.5亿立方米", [(300, "家"), (100, "家"), (1.5, "亿立方米")]),
    ],
)
def test_recorded(text: str, expected: list[tuple[float, str]]) -> None:
    assert pairs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '省委省政府"八抓20条"创新措施',
        "深化“231”产业体系，构建“1+N”政策体系，“1+10+N”",
        "改造S104济微路、G237国道",
        '研发推广"鲁原502"等小麦新品种',
        "确保PM2.5年均浓度下降",
        "争创第5代移动通信示范",
        "全市前5，道路交通等9大领域，6大系列",
        "实施220千伏酒庄输变电工程",
        "打造三个千亿级、百场活动、过千万美元项目",
        "主攻世界500强、中国500强",
        "2023年新建，3年左右完成，压缩至3个工作日，用2个月时间",
        "创建5A级景区",
        "2023—2025年，24小时自助服务区、15分钟生活圈",
    ],
)
def test_not_recorded(text: str) -> None:
    assert pairs(text) == []


def test_range_keeps_both_bounds() -> None:
    first, second = extract_quantities("培育1-2个示范园区，提高1-3个百分点")
    assert (first.value, first.value_max, first.unit) == (1, 2, "个")
    assert (second.value, second.value_max, second.unit) == (1, 3, "个百分点")
    ratio, count = extract_quantities("增长25%—30%，培育3至5个")
    assert (ratio.value, ratio.value_max, ratio.unit) == (25, 30, "%")
    assert (count.value, count.value_max, count.unit) == (3, 5, "个")


def test_restated_threshold_is_not_a_new_target() -> None:
    assert pairs("增速达到5%以上（含5%）") == [(5, "%")]
    assert pairs("增长达到5%，或未达到5%则追加") == [(5, "%")]
    # The same value in another sentence, or without 含/未, is a target again.
    assert pairs("新增营收20亿元。新增营收20亿元") == [(20, "亿元"), (20, "亿元")]
    assert pairs("任城落地1个，曲阜各落地1个") == [(1, "个"), (1, "个")]


def test_qualifiers() -> None:
    by_value = {q.value: q.qualifier for q in extract_quantities("突破200家，5家以上，3550余场，力争6%，100万吨左右")}
    assert by_value == {200: "突破", 5: "以上", 3550: "余", 6: "力争", 100: "左右"}


def test_text_names_the_counted_thing() -> None:
    texts = [q.text for q in extract_quantities("实施金大丰等34个产业化示范项目，完成投资100亿元、新增营收200亿元")]
    assert texts == ["34个产业化示范项目", "完成投资100亿元", "新增营收200亿元"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list('0123456789.-%个家亿万元人次 “”"以上余年月第前ASG千伏，。含未')), max_size=60)
)
def test_any_text_gives_substrings(text: str) -> None:
    flat = "".join(text.split())
    for q in extract_quantities(text):
        assert q.text in flat
        assert q.value >= 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_is_safe(text: str) -> None:
    extract_quantities(text)


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
    ],
)
@pytest.mark.timeout(10)
def test_pathological_input_does_not_hang(payload: str) -> None:
    # A hang guard, not a speed measurement (that is bench/): pytest-timeout fails a test that runs away.
    extract_quantities(payload)


def _notice_counts(tasks: tuple[GoldTask, ...]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for task in tasks:
        if not task.gold.get("quantities_checked"):
            continue
        gold = Counter((float(q["value"]), q["unit"], q.get("value_max")) for q in task.gold["quantities"])
        got = Counter((q.value, q.unit, q.value_max) for q in extract_quantities(task.text))
        tp += sum((gold & got).values())
        fp += sum((got - gold).values())
        fn += sum((gold - got).values())
    return tp, fp, fn


def test_gold_f1_per_notice() -> None:
    rows = []
    for name in NOTICES:
        tp, fp, fn = _notice_counts(gold_tasks(name))
        rows.append((name, tp, fp, fn, 2 * tp / (2 * tp + fp + fn) if tp else 0.0))
    print("\nnotice                                  tp   fp   fn     F1")
    for name, tp, fp, fn, f1 in rows:
        print(f"{name:38} {tp:4} {fp:4} {fn:4}  {f1:.3f}")
    assert len(rows) == 5
    assert all(f1 >= F1_TARGET for *_, f1 in rows), rows
