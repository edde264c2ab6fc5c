"""Import and export of the directory as YAML or CSV, for the office's own unit list.

YAML has three lists — `units`, `groups`, `posts` — with the fields of `UnitCreate` and
`PostPut`; CSV has one row per entry with a `type` column (unit, group, post) and `|` between
list items. An import is one transaction: an error anywhere leaves the directory as it was.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError
from sqlmodel import Session, col, select

from proto.subjects import Subjects
from services.common.clock import CHINA, local_date
from services.common.errors import ApiError
from services.registry.contacts import ContactIn, set_contact, stage_contact
from services.registry.directory import find_unit, set_members, upsert_unit
from services.registry.directory_models import GroupMember, Post, PostHolder, Unit, UnitAlias
from services.registry.posts import tasks_of_post, upsert_post
from services.registry.publish import republish
from services.registry.schemas import ImportReport, PostPut, UnitCreate

# The cap on an imported directory file; the body limit stops reading past it.
MAX_DIRECTORY_BYTES = 5_000_000

CSV_COLUMNS = (
    "type",
    "name",
    "kind",
    "parent",
    "aliases",
    "members",
    "member_kinds",
    "member_parent",
    "holder",
    "since",
    "past_holders",
)
_LISTS = ("aliases", "members", "member_kinds", "past_holders")


def parse_directory(text: str, fmt: str) -> dict[str, list[dict[str, Any]]]:
    """The file as {units, groups, posts}, each a list of plain dicts."""
    if fmt == "csv":
        out: dict[str, list[dict[str, Any]]] = {"units": [], "groups": [], "posts": []}
        for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            kind = (row.pop("type", "") or "unit").strip()
            entry = {k: v.strip() for k, v in row.items() if k and v and v.strip()}
            for key in _LISTS:
                if key in entry:
                    entry[key] = [p.strip() for p in entry[key].split("|") if p.strip()]
            if kind == "post":
                entry["title"] = entry.pop("name", "")
                if "parent" in entry:
                    entry["unit"] = entry.pop("parent")
            bucket = {"unit": "units", "group": "groups", "post": "posts"}.get(kind)
            if bucket is None:
                raise ApiError(
                    422,
                    "bad_directory_row",
                    f"第 {line} 行类型 {kind} 不是 unit/group/post",
                    f"line {line}: bad type {kind}",
                )
            out[bucket].append(entry)
        return out
    try:
        data = yaml.load(text, Loader=_NoAliasLoader) or {}
    except yaml.YAMLError as exc:
        raise ApiError(422, "bad_directory_file", "目录文件不是有效的 YAML", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(
            422, "bad_directory_file", "目录文件应包含 units、groups、posts", "expected units, groups, posts"
        )
    out = {k: data.get(k) or [] for k in ("units", "groups", "posts")}
    for key, entries in out.items():
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ApiError(
                422,
                "bad_directory_file",
                f"目录文件中 {key} 应为条目列表",
                f"{key} must be a list of entries",
            )
    return out


class _NoAliasLoader(yaml.SafeLoader):
    """Refuses anchors' aliases: a directory never needs them, and nested aliases are the
    YAML billion laughs (a few KB that expand to gigabytes as soon as anything walks them)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def _post_unit(session: Session, ref: str) -> str:
    """The unit a post belongs to: a known one as it is (a post names it, never edits it), else a new one."""
    known = find_unit(session, ref)
    return known.unit_id if known is not None else upsert_unit(session, name=ref)[0].unit_id


def _send_contact(session: Session, subjects: Subjects, row: Unit | Post | None, contact: ContactIn | None) -> None:
    if row is not None and (contact is None or not set_contact(session, subjects, row, contact)):
        stage_contact(session, subjects, row)


def _contact(entry: dict[str, Any]) -> ContactIn | None:
    raw = entry.pop("contact", None) if isinstance(entry, dict) else None
    if raw is None:
        return None
    return ContactIn.model_validate(raw)


def import_directory(
    session: Session,
    subjects: Subjects,
    text: str,
    fmt: str,
    *,
    now: datetime,
    actor: str = "office",
    zone: ZoneInfo = CHINA,
) -> ImportReport:
    data = parse_directory(text, fmt)
    affected: set[str] = set()
    try:
        # A unit's or post's `contact:` (robot, e-mail; issue 15) is set after the entry itself.
        unit_contacts = [_contact(u) for u in data["units"]]
        post_contacts = [_contact(p) for p in data["posts"]]
        units = [UnitCreate.model_validate(u) for u in data["units"]]
        groups = [UnitCreate.model_validate({**g, "is_group": True}) for g in data["groups"]]
        posts = [PostPut.model_validate(p) for p in data["posts"]]
    except ValidationError as exc:
        raise ApiError(
            422,
            "bad_directory_entry",
            "目录文件中有不正确的条目",
            "the directory file has an invalid entry",
            detail=[{"where": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in exc.errors()[:20]],
        ) from exc
    entries = [*units, *groups]
    # Names first, so parents and members may refer to entries further down the file.
    for entry in entries:
        _unit, touched = upsert_unit(session, name=entry.name, kind=entry.kind, is_group=entry.is_group)
        affected |= touched
    for entry in entries:
        unit, touched = upsert_unit(
            session,
            name=entry.name,
            kind=entry.kind,
            parent=entry.parent,
            aliases=entry.aliases,
            is_group=entry.is_group,
            member_kinds=entry.member_kinds,
            member_parent=entry.member_parent,
        )
        affected |= touched
        if entry.members is not None:
            affected |= set_members(session, unit, entry.members)
    # Every unit and post of the file is sent to notify (which checks subscriptions against
    # them), with its contact: changed by a `contact:` entry, or as it was.
    for entry, contact in zip(units, unit_contacts, strict=True):
        _send_contact(session, subjects, find_unit(session, entry.name), contact)
    for post, contact in zip(posts, post_contacts, strict=True):
        unit_id = _post_unit(session, post.unit) if post.unit else None
        row, changed = upsert_post(
            session,
            title=post.title,
            holder=post.holder,
            since=post.since,
            past_holders=post.past_holders,
            unit_id=unit_id,
            today=local_date(now, zone),
        )
        if changed:
            affected |= tasks_of_post(session, row.post_id)
        _send_contact(session, subjects, row, contact)
    republished = republish(session, subjects, affected, now=now, correlation_id=f"directory-import-{actor}")
    session.commit()
    return ImportReport(units=len(units), groups=len(groups), posts=len(posts), republished=republished)


def export_directory(session: Session) -> dict[str, list[dict[str, Any]]]:
    units = session.exec(
        select(Unit).where(Unit.provisional == False, col(Unit.merged_into).is_(None)).order_by(Unit.name)  # noqa: E712
    ).all()
    names = {u.unit_id: u.name for u in session.exec(select(Unit)).all()}
    aliases: dict[str, list[str]] = {}
    for row in session.exec(select(UnitAlias).order_by(UnitAlias.alias)).all():
        if row.alias != names.get(row.unit_id):
            aliases.setdefault(row.unit_id, []).append(row.alias)
    explicit: dict[str, list[str]] = {}
    for member in session.exec(select(GroupMember)).all():
        explicit.setdefault(member.group_id, []).append(names.get(member.member_id, member.member_id))
    out: dict[str, list[dict[str, Any]]] = {"units": [], "groups": [], "posts": []}
    for unit in units:
        entry: dict[str, Any] = {"name": unit.name, "kind": unit.kind}
        if unit.parent_id:
            entry["parent"] = names.get(unit.parent_id, unit.parent_id)
        if aliases.get(unit.unit_id):
            entry["aliases"] = sorted(set(aliases[unit.unit_id]))
        if unit.is_group:
            entry["members"] = sorted(explicit.get(unit.unit_id, []))
            if unit.member_kinds:
                entry["member_kinds"] = list(unit.member_kinds)
            if unit.member_parent_id:
                entry["member_parent"] = names.get(unit.member_parent_id, unit.member_parent_id)
            out["groups"].append(entry)
        else:
            out["units"].append(entry)
    holders = session.exec(select(PostHolder).order_by(col(PostHolder.id))).all()
    for post in session.exec(select(Post).order_by(Post.title)).all():
        rows = [h for h in holders if h.post_id == post.post_id]
        current = next((h for h in rows if h.until is None), None)
        entry = {"title": post.title}
        if current:
            entry["holder"] = current.name
            if current.since:
                entry["since"] = current.since
        past = [h.name for h in rows if h.until is not None]
        if past:
            entry["past_holders"] = past
        if post.unit_id:
            entry["unit"] = names.get(post.unit_id, post.unit_id)
        out["posts"].append(entry)
    return out


def render_directory(data: dict[str, list[dict[str, Any]]], fmt: str) -> str:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for bucket, kind in (("units", "unit"), ("groups", "group"), ("posts", "post")):
            for entry in data[bucket]:
                row = {k: v for k, v in entry.items() if k != "title"}
                row["name"] = entry.get("name") or entry.get("title")
                if "unit" in row:
                    row["parent"] = row.pop("unit")
                for key in _LISTS:
                    if key in row:
                        row[key] = "|".join(row[key])
                if isinstance(row.get("since"), date):
                    row["since"] = row["since"].isoformat()
                writer.writerow({"type": kind, **row})
        return buffer.getvalue()
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
