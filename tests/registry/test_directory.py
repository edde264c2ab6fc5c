"""The directory: group expansion, provisional units and merges, posts, import/export and the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select
from typer.testing import CliRunner

from proto.task import TaskUpserted, task_id_for
from services.common.outbox import OutboxEntry
from services.registry.directory import Groups, find_unit, merge_units
from services.registry.directory_io import export_directory, import_directory, render_directory
from services.registry.directory_models import Unit
from services.registry.models import Assignment, RegistryTask
from services.registry.posts import tasks_of_post, upsert_post
from services.registry.publish import Resolver, publish_tasks, republish
from services.registry.search import TaskQuery, query_tasks
from tests.registry.conftest import EXAMPLE_DIRECTORY, NOW, SUBJECTS

TODAY = date(2026, 3, 1)

Y2025 = "济兖政发〔2025〕1号"


def _last_event(session: Session, task_id: str) -> TaskUpserted:
    rows = session.exec(select(OutboxEntry).order_by(col(OutboxEntry.seq).desc())).all()
    for row in rows:
        event = TaskUpserted.model_validate(json.loads(row.payload))
        if event.task_id == task_id:
            return event
    raise AssertionError(f"no event for {task_id}")


def test_groups_expand_to_their_members_in_events(shared_session: Session) -> None:
    towns = find_unit(shared_session, "各镇街")
    assert towns is not None and towns.is_group
    members = Groups(shared_session).members(towns.unit_id)
    names = {shared_session.get(Unit, m).name for m in members}  # type: ignore[union-attr]
    assert names == {
        "鼓楼街道",
        "酒仙桥街道",
        "龙桥街道",
        "兴隆庄街道",
        "新兖镇",
        "漕河镇",
        "颜店镇",
        "大安镇",
        "小孟镇",
        "新驿镇",
    }
    task = next(
        t
        for t in shared_session.exec(select(RegistryTask).where(RegistryTask.doc_no == Y2025)).all()
        if "各镇街" in t.co_units
    )
    publish_tasks(shared_session, SUBJECTS, [task])
    event = _last_event(shared_session, task.task_id)
    group_ref = next(u for u in event.co_units if u.name == "各镇街")
    assert group_ref.is_group and not group_ref.provisional
    # The group's own id comes first, then every member: progress can match either.
    at = event.co_unit_ids.index(group_ref.unit_id)
    assert set(members) <= set(event.co_unit_ids[at:])
    # A town sees the task through the group.
    rows, _ = query_tasks(session=shared_session, query=TaskQuery(unit="新兖镇", limit=500))
    assert task.task_id in {r.task_id for r in rows}


def test_provisional_units_are_listed_and_a_merge_repoints_every_assignment(shared_session: Session) -> None:
    provisional = shared_session.exec(select(Unit).where(Unit.provisional == True)).all()  # noqa: E712
    names = {u.name for u in provisional}
    assert "区委宣传部" in names and "区科学技术局" not in names and "区科技局" not in names
    typo = find_unit(shared_session, "大山镇")
    assert typo is not None and typo.provisional
    assigned = {a.task_id for a in shared_session.exec(select(Assignment).where(Assignment.unit_id == typo.unit_id))}
    assert assigned
    target = find_unit(shared_session, "大安镇")
    affected = merge_units(shared_session, typo.unit_id, target.unit_id)  # type: ignore[union-attr]
    assert affected == assigned
    assert republish(shared_session, SUBJECTS, affected, now=NOW) == len(assigned)
    task_id = next(iter(assigned))
    event = _last_event(shared_session, task_id)
    ref = next(u for u in [*event.host_units, *event.co_units] if u.name == "大山镇")
    assert ref.unit_id == target.unit_id and ref.canonical == "大安镇" and event.version == 2  # type: ignore[union-attr]
    assert find_unit(shared_session, "大山镇").unit_id == target.unit_id  # type: ignore[union-attr]


def test_a_successor_in_a_post_inherits_the_tasks(shared_session: Session) -> None:
    upsert_post(shared_session, title="副区长（分管工业）", holder="石可清", since=date(2024, 1, 1), today=TODAY)
    post, changed = upsert_post(
        shared_session, title="副区长（分管工业）", holder="新同志", since=date(2026, 3, 1), today=TODAY
    )
    assert changed
    affected = tasks_of_post(shared_session, post.post_id)
    assert len(affected) >= 40
    republish(shared_session, SUBJECTS, affected, now=NOW)
    task_id = sorted(affected)[0]
    ref = next(r for r in _last_event(shared_session, task_id).leader_refs if r.name == "石可清")
    assert ref.post_id == post.post_id and ref.holder == "新同志"
    task = shared_session.get(RegistryTask, task_id)
    assert "石可清" in task.leaders  # type: ignore[union-attr]
    _rows, total = query_tasks(session=shared_session, query=TaskQuery(leader="新同志", limit=500))
    assert total == len(affected)


def test_export_and_import_round_trip_in_yaml_and_csv(session: Session, tmp_path: Path) -> None:
    import_directory(session, SUBJECTS, EXAMPLE_DIRECTORY, "yaml", now=NOW)
    upsert_post(session, title="区长", holder="某区长", today=TODAY)
    session.commit()
    exported = export_directory(session)
    for fmt in ("yaml", "csv"):
        text = render_directory(exported, fmt)
        from services.registry.directory_io import parse_directory

        again = parse_directory(text, fmt)
        assert {u["name"] for u in again["units"]} == {u["name"] for u in exported["units"]}
        assert {g["name"] for g in again["groups"]} == {
            "各镇街",
            "各镇",
            "各街道",
            "区直相关部门",
            "各县（市、区）政府",
        }
        assert again["posts"][0]["title"] == "区长" and again["posts"][0]["holder"] == "某区长"
    # Importing the export again changes nothing.
    before = render_directory(exported, "yaml")
    import_directory(session, SUBJECTS, render_directory(exported, "csv"), "csv", now=NOW)
    assert render_directory(export_directory(session), "yaml") == before


def test_a_bad_directory_file_writes_nothing(session: Session) -> None:
    import pytest

    from services.common.errors import ApiError

    bad = "units:\n  - name: 区甲局\n  - name: 区乙局\n    kind: 不存在的类别\n"
    with pytest.raises(ApiError) as caught:
        import_directory(session, SUBJECTS, bad, "yaml", now=NOW)
    assert caught.value.status == 422
    session.rollback()
    assert session.exec(select(Unit)).all() == []


def test_cli_imports_and_exports(tmp_path: Path) -> None:
    from services.cli import app

    runner = CliRunner()
    source = tmp_path / "dir.yaml"
    source.write_text(EXAMPLE_DIRECTORY, encoding="utf-8")
    done = runner.invoke(app, ["directory", "import", str(source), "--data", str(tmp_path / "var")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "var" / "registry.db").exists()
    out = tmp_path / "out.csv"
    exported = runner.invoke(app, ["directory", "export", "--data", str(tmp_path / "var"), "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "区科学技术局" in out.read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("units: [{name: 区甲局, kind: 火星}]", encoding="utf-8")
    failed = runner.invoke(app, ["directory", "import", str(bad), "--data", str(tmp_path / "var")])
    assert failed.exit_code == 1


def test_task_refs_say_what_was_written_and_what_it_means(shared_session: Session) -> None:
    task = shared_session.get(RegistryTask, task_id_for("济兖政发〔2020〕1号", 1))
    assert task is not None
    refs = Resolver(shared_session, [task]).refs(task.task_id, "host")
    assert [r.name for r in refs] == task.host_units
    assert all(r.canonical for r in refs)


LEADERS_ONLY = """\
posts:
  - {title: 常务副区长, holder: 李副区长, unit: 兖州区}
  - {title: 区长, holder: 王区长, unit: 兖州区人民政府}
"""


def _county_governments(session: Session) -> set[str]:
    group = find_unit(session, "各县（市、区）政府")
    assert group is not None
    return {session.get(Unit, m).name for m in Groups(session).members(group.unit_id)}  # type: ignore[union-attr]


def test_importing_leader_posts_changes_no_field_of_their_units(session: Session) -> None:
    """Posts naming 兖州区人民政府 (by name or alias) once reset its kind to "other" and renamed it."""
    import_directory(session, SUBJECTS, EXAMPLE_DIRECTORY, "yaml", now=NOW)
    before = find_unit(session, "兖州区人民政府")
    assert before is not None
    kept = before.model_dump()
    assert "兖州区人民政府" in _county_governments(session)

    import_directory(session, SUBJECTS, LEADERS_ONLY, "yaml", now=NOW)

    after = find_unit(session, "兖州区")
    assert after is not None and after.model_dump() == kept
    assert "兖州区人民政府" in _county_governments(session)


def test_a_unit_import_without_a_kind_keeps_the_kind(session: Session) -> None:
    import_directory(session, SUBJECTS, EXAMPLE_DIRECTORY, "yaml", now=NOW)
    import_directory(session, SUBJECTS, "units:\n  - {name: 兖州区人民政府, aliases: [兖州]}\n", "yaml", now=NOW)
    unit = find_unit(session, "兖州")
    assert unit is not None and unit.kind == "county_government"


def test_leader_posts_leave_a_county_its_tasks(shared_session: Session) -> None:
    """The report: after such an import 兖州区人民政府's tasks fell from 128 to 10."""

    def tasks_of_yanzhou() -> int:
        return query_tasks(session=shared_session, query=TaskQuery(unit="兖州区人民政府", limit=500))[1]

    before = tasks_of_yanzhou()
    assert before > 100  # the Jining notice's tasks for 各县（市、区）政府 among them
    import_directory(shared_session, SUBJECTS, LEADERS_ONLY, "yaml", now=NOW)
    assert tasks_of_yanzhou() == before
