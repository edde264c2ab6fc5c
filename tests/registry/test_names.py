"""Name resolution: the alias cases of the issue, provisional units, groups."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.registry.directory import find_unit, resolve_names, resolve_on_arrival, upsert_unit
from services.registry.directory_models import UnitAlias
from services.registry.names import clean, guess_kind, is_collective, match_key
from tests.registry.conftest import new_engine


@pytest.mark.parametrize(
    ("written", "official"),
    [
        ("区科技局", "区科学技术局"),
        ("区人力资源社会保障局", "区人力资源和社会保障局"),
        ("区市场监管局", "区市场监督管理局"),
        ("兗州区", "兖州区"),
        ("区发展改革局等", "区发展改革局"),
        (" 区财政 局 ", "区财政局"),
        ("区住房城乡建设局", "区住房和城乡建设局"),
        ("兖州区政府", "兖州区人民政府"),
        ("各县(市、区)政府", "各县（市、区）政府"),
    ],
)
def test_spellings_share_a_key(written: str, official: str) -> None:
    assert match_key(written) == match_key(official)


def test_clean_keeps_the_name_readable() -> None:
    assert clean(" 区科技局等 ") == "区科技局"
    assert clean("兗州区") == "兖州区"
    assert clean("各县(市、区)政府") == "各县（市、区）政府"


def test_kinds_and_collectives_are_guessed() -> None:
    assert guess_kind("新兖镇") == "town"
    assert guess_kind("鼓楼街道") == "street"
    assert guess_kind("区科学技术局") == "bureau"
    assert guess_kind("济宁城投控股集团有限公司") == "company"
    assert guess_kind("邹城市") == "county_government"
    assert (
        is_collective("各镇街")
        and is_collective("区直相关部门")
        and is_collective("济宁高新区等县（市、区）政府（管委会）")
    )
    assert not is_collective("区财政局")


@pytest.mark.parametrize(
    "written",
    ["区科技局", "区科学技术局", "区科技局等", "区 科技局"],
)
def test_written_names_resolve_to_the_directory_unit(session: Session, written: str) -> None:
    unit, _ = upsert_unit(session, name="区科学技术局", kind="bureau")
    assert resolve_on_arrival(session, written).unit_id == unit.unit_id
    assert not resolve_on_arrival(session, written).provisional


def test_the_issue_alias_cases_resolve(session: Session) -> None:
    for official in ("区人力资源和社会保障局", "区市场监督管理局", "兖州区人民政府"):
        upsert_unit(session, name=official)
    assert find_unit(session, "区人力资源社会保障局").name == "区人力资源和社会保障局"  # type: ignore[union-attr]
    assert find_unit(session, "区市场监管局").name == "区市场监督管理局"  # type: ignore[union-attr]
    assert find_unit(session, "兗州区政府").name == "兖州区人民政府"  # type: ignore[union-attr]


def test_an_unknown_name_becomes_one_provisional_unit(session: Session) -> None:
    first = resolve_on_arrival(session, "区新设局")
    again = resolve_on_arrival(session, " 区新设局等")
    assert first.unit_id == again.unit_id and first.provisional
    group = resolve_on_arrival(session, "相关镇街")
    assert group.provisional and group.is_group


def test_importing_an_official_name_absorbs_the_provisional_spelling(session: Session) -> None:
    provisional = resolve_on_arrival(session, "区科技局")
    unit, _ = upsert_unit(session, name="区科学技术局", kind="bureau")
    assert unit.unit_id != provisional.unit_id
    assert find_unit(session, provisional.unit_id).unit_id == unit.unit_id  # type: ignore[union-attr]
    assert find_unit(session, "区科技局").unit_id == unit.unit_id  # type: ignore[union-attr]


def test_a_batch_of_names_resolves_as_one_call_each_would(tmp_path: Path) -> None:
    names = ["区新设局", " 区新设局等", "区科学技术局", "区科技局", "相关镇街", "区新设局", "区财政局"]

    def resolved(batch: bool) -> tuple[list[tuple[str, bool]], list[tuple[str, str]]]:
        engine = new_engine(f"sqlite:///{tmp_path / f'batch-{batch}.db'}")
        with Session(engine) as session:
            upsert_unit(session, name="区财政局", kind="bureau")
            found = resolve_names(session, names) if batch else {n: resolve_on_arrival(session, n) for n in names}
            units = [(found[n].unit_id, found[n].provisional) for n in names]
            aliases = [(a.key, a.unit_id) for a in session.exec(select(UnitAlias).order_by(UnitAlias.key)).all()]
        engine.dispose()
        return units, aliases

    assert resolved(batch=True) == resolved(batch=False)
