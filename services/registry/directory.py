"""The unit directory: finding units by id, name or alias, provisional units, merges, groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlmodel import Session, col, select

from proto.subjects import unit_token
from services.common.db import insert_missing
from services.common.errors import ApiError
from services.common.params import NAME_MAX
from services.registry.directory_models import UNIT_KINDS, GroupMember, Unit, UnitAlias
from services.registry.models import Assignment
from services.registry.names import clean, guess_kind, is_collective, match_key

_Row = TypeVar("_Row", Unit, UnitAlias)


def _follow(session: Session, unit: Unit | None) -> Unit | None:
    seen: set[str] = set()
    while unit is not None and unit.merged_into and unit.unit_id not in seen:
        seen.add(unit.unit_id)
        unit = session.get(Unit, unit.merged_into)
    return unit


def find_unit(session: Session, ref: str) -> Unit | None:
    """The live unit named by an id, a canonical name or an alias (merged units lead to their target)."""
    ref = ref.strip()
    if not ref:
        return None
    unit = session.get(Unit, ref)
    if unit is None:
        alias = session.get(UnitAlias, match_key(ref))
        unit = session.get(Unit, alias.unit_id) if alias else None
    return _follow(session, unit)


def require_unit(session: Session, ref: str) -> Unit:
    unit = find_unit(session, ref)
    if unit is None:
        raise ApiError(404, "unit_not_found", f"未找到单位 {ref}", f"unit {ref} not found")
    return unit


def resolve_on_arrival(session: Session, name: str) -> Unit:
    """The unit a name in a notice stands for; an unknown name becomes a provisional unit."""
    return resolve_names(session, [name])[name]


def resolve_names(session: Session, names: Iterable[str]) -> dict[str, Unit]:
    """`resolve_on_arrival` for many names at once: each name written → its unit.

    The units and aliases any of the names could reach are read in two queries, then the names
    are resolved in order against those rows, exactly as one call each would, so a provisional
    unit created for one name is found by a later spelling of it; one flush at the end.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    refs = {n: n.strip() for n in wanted}
    # A name from a notice longer than a column holds is parser noise: kept, cut to fit.
    cleaned = {n: (clean(n) or n.strip())[:NAME_MAX] for n in wanted}
    keys = {match_key(r) for r in refs.values() if r} | {match_key(c) for c in cleaned.values()}
    aliases = {a.key: a for a in session.exec(select(UnitAlias).where(col(UnitAlias.key).in_(keys))).all()}
    ids = {r for r in refs.values() if r} | {unit_token(c) for c in cleaned.values()}
    ids |= {a.unit_id for a in aliases.values()}
    units: dict[str, Unit | None] = dict.fromkeys(ids)
    units.update({u.unit_id: u for u in session.exec(select(Unit).where(col(Unit.unit_id).in_(ids))).all()})

    def get(unit_id: str) -> Unit | None:
        if unit_id not in units:
            units[unit_id] = session.get(Unit, unit_id)
        return units[unit_id]

    def follow(unit: Unit | None) -> Unit | None:
        seen: set[str] = set()
        while unit is not None and unit.merged_into and unit.unit_id not in seen:
            seen.add(unit.unit_id)
            unit = get(unit.merged_into)
        return unit

    out: dict[str, Unit] = {}
    created = False
    for name in wanted:
        ref = refs[name]
        found = None
        if ref:
            found = get(ref)
            if found is None:
                alias = aliases.get(match_key(ref))
                found = get(alias.unit_id) if alias else None
            found = follow(found)
        if found is None:
            name_clean = cleaned[name]
            unit_id = unit_token(name_clean)
            found = get(unit_id)
            if found is None:
                provisional = Unit(
                    unit_id=unit_id,
                    name=name_clean,
                    kind=guess_kind(name_clean),
                    provisional=True,
                    is_group=is_collective(name_clean),
                )
                # Another notice's handler may be creating the same unit at this moment.
                found = units[unit_id] = _created(session, provisional)
            key = match_key(name_clean)
            row = aliases.get(key)
            if row is None:
                aliases[key] = row = _created(session, UnitAlias(key=key, alias=clean(name_clean), unit_id=unit_id))
            if row.unit_id != unit_id:
                row.unit_id = unit_id
                row.alias = clean(name_clean)
                session.add(row)
            created = True
        out[name] = found
    if created:
        session.flush()
    return out


def _created(session: Session, row: _Row) -> _Row:
    """The row as stored: inserted now unless it exists (see `insert_missing`)."""
    insert_missing(session, [row])
    keys = tuple(getattr(row, c.key) for c in type(row).__table__.primary_key.columns)  # type: ignore[attr-defined]
    stored = session.get(type(row), keys if len(keys) > 1 else keys[0])
    assert stored is not None
    return stored


def _put_alias(session: Session, alias: str, unit_id: str) -> None:
    key = match_key(alias)
    row = session.get(UnitAlias, key) or _created(session, UnitAlias(key=key, alias=clean(alias), unit_id=unit_id))
    if row.unit_id != unit_id:
        row.unit_id = unit_id
        row.alias = clean(alias)
        session.add(row)


def check_kind(kind: str) -> str:
    if kind not in UNIT_KINDS:
        raise ApiError(
            422,
            "unknown_kind",
            f"未知的单位类别 {kind}，可选：{'、'.join(UNIT_KINDS)}",
            f"unknown unit kind {kind}; one of {', '.join(UNIT_KINDS)}",
        )
    return kind


def _parent_for(session: Session, unit: Unit, parent: Unit) -> str:
    """The parent's id, once sure the unit is not the parent itself or one of its ancestors."""
    seen: set[str] = set()
    current: Unit | None = parent
    while current is not None and current.unit_id not in seen:
        if current.unit_id == unit.unit_id:
            raise ApiError(
                422,
                "parent_cycle",
                f"单位 {unit.name} 不能以 {parent.name} 为上级：上级链会回到自身",
                f"unit {unit.name} cannot have {parent.name} as parent: the chain would loop",
            )
        seen.add(current.unit_id)
        current = session.get(Unit, current.parent_id) if current.parent_id else None
    return parent.unit_id


def upsert_unit(
    session: Session,
    *,
    name: str,
    kind: str | None = None,
    parent: str | None = None,
    aliases: Iterable[str] = (),
    is_group: bool | None = None,
    member_kinds: Iterable[str] | None = None,
    member_parent: str | None = None,
) -> tuple[Unit, set[str]]:
    """Create or confirm a directory unit; provisional units its names stood for are merged in.

    Returns the unit and the tasks whose assignments changed (to be republished).
    """
    cleaned = stored_name(name)
    if not cleaned:
        raise ApiError(422, "empty_unit_name", "单位名称不能为空", "a unit needs a name")
    unit = find_unit(session, cleaned)
    affected: set[str] = set()
    if unit is not None and unit.provisional and unit.name != cleaned:
        # The name was known only as a provisional spelling: the directory entry takes over.
        absorbed = unit
        unit = None
    else:
        absorbed = None
    # A confirmed unit keeps what the call does not name: a leader import naming 兖州区人民政府
    # once reset its kind to a guess ("other") and dropped it out of 各县（市、区）政府.
    confirmed = unit is not None and not unit.provisional
    if unit is None:
        unit = session.get(Unit, unit_token(cleaned)) or _created(
            session, Unit(unit_id=unit_token(cleaned), name=cleaned)
        )
        unit.merged_into = None
    unit.name = cleaned
    unit.provisional = False
    was_group = unit.is_group
    if is_group is not None:
        unit.is_group = is_group
    elif is_collective(cleaned):
        unit.is_group = True
    if kind:
        unit.kind = check_kind(kind)
    elif not confirmed or unit.is_group != was_group:
        unit.kind = "group" if unit.is_group else guess_kind(cleaned)
    if parent:
        unit.parent_id = _parent_for(session, unit, require_unit(session, parent))
    if member_kinds is not None:
        unit.member_kinds = [check_kind(k) for k in member_kinds]
    if member_parent:
        unit.member_parent_id = require_unit(session, member_parent).unit_id
    session.add(unit)
    session.flush()
    if absorbed is not None and absorbed.unit_id != unit.unit_id:
        affected |= merge_units(session, absorbed.unit_id, unit.unit_id)
    for alias in (cleaned, *aliases):
        affected |= add_alias(session, unit, alias)
    affected |= tasks_of_units(session, [unit.unit_id])
    return unit, affected


def stored_name(name: str) -> str:
    """The name as the directory stores it; a 422 when that is longer than a column holds.

    `clean` applies NFKC, which can lengthen a name (㍿ → 株式会社) past what the schema allowed.
    """
    cleaned = clean(name)
    if len(cleaned) > NAME_MAX:
        raise ApiError(
            422,
            "unit_name_too_long",
            f"单位名称或别名规范化后超过 {NAME_MAX} 字",
            f"a unit name or alias is longer than {NAME_MAX} characters once normalised",
        )
    return cleaned


def add_alias(session: Session, unit: Unit, alias: str) -> set[str]:
    """Point an alias at `unit`; a provisional unit that went by the alias is merged in."""
    stored_name(alias)
    current = find_unit(session, alias)
    affected: set[str] = set()
    if current is not None and current.unit_id != unit.unit_id:
        if not current.provisional:
            raise ApiError(
                409,
                "alias_taken",
                f"别名 {alias} 已属于单位 {current.name}",
                f"alias {alias} already names unit {current.name}",
            )
        affected = merge_units(session, current.unit_id, unit.unit_id)
    _put_alias(session, alias, unit.unit_id)
    session.flush()
    return affected


def merge_units(session: Session, source_id: str, into_id: str) -> set[str]:
    """Merge a unit into another: aliases, group memberships and every assignment follow."""
    if source_id == into_id:
        raise ApiError(422, "merge_into_itself", "不能把单位合并到自身", "a unit cannot be merged into itself")
    source = session.get(Unit, source_id)
    target = _follow(session, session.get(Unit, into_id))
    if source is None or target is None:
        missing = source_id if source is None else into_id
        raise ApiError(404, "unit_not_found", f"未找到单位 {missing}", f"unit {missing} not found")
    affected = tasks_of_units(session, [source_id])
    for row in session.exec(select(Assignment).where(Assignment.unit_id == source_id)).all():
        row.unit_id = target.unit_id
        session.add(row)
    for alias in session.exec(select(UnitAlias).where(UnitAlias.unit_id == source_id)).all():
        alias.unit_id = target.unit_id
        session.add(alias)
    for member in session.exec(select(GroupMember).where(GroupMember.member_id == source_id)).all():
        if session.get(GroupMember, (member.group_id, target.unit_id)) is None:
            session.add(GroupMember(group_id=member.group_id, member_id=target.unit_id))
        session.delete(member)
    for member in session.exec(select(GroupMember).where(GroupMember.group_id == source_id)).all():
        if target.is_group and session.get(GroupMember, (target.unit_id, member.member_id)) is None:
            session.add(GroupMember(group_id=target.unit_id, member_id=member.member_id))
        session.delete(member)
    source.merged_into = target.unit_id
    session.add(source)
    session.flush()
    return affected


def set_members(session: Session, group: Unit, refs: Iterable[str]) -> set[str]:
    """Replace a group's explicit members; returns the tasks assigned to the group."""
    members: list[Unit] = []
    unknown: list[str] = []
    for ref in refs:
        unit = find_unit(session, ref)
        if unit is None:
            unknown.append(ref)
        elif unit.unit_id != group.unit_id:
            members.append(unit)
    if unknown:
        raise ApiError(
            422,
            "unknown_unit",
            f"目录中没有这些单位：{'、'.join(unknown)}",
            f"not in the directory: {', '.join(unknown)}",
            detail={"unknown": unknown},
        )
    group.is_group = True
    session.add(group)
    for row in session.exec(select(GroupMember).where(GroupMember.group_id == group.unit_id)).all():
        session.delete(row)
    session.flush()
    for unit in {u.unit_id: u for u in members}.values():
        session.add(GroupMember(group_id=group.unit_id, member_id=unit.unit_id))
    session.flush()
    return tasks_of_units(session, [group.unit_id])


def tasks_of_units(session: Session, unit_ids: Iterable[str]) -> set[str]:
    ids = list(unit_ids)
    if not ids:
        return set()
    rows = session.exec(select(Assignment.task_id).where(col(Assignment.unit_id).in_(ids))).all()
    return set(rows)


class Groups:
    """Group membership for one operation: explicit members plus the members by rule."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.groups = {u.unit_id: u for u in session.exec(select(Unit).where(Unit.is_group == True)).all()}  # noqa: E712
        self._explicit: dict[str, list[str]] = {}
        for row in session.exec(select(GroupMember).order_by(GroupMember.group_id, GroupMember.member_id)).all():
            self._explicit.setdefault(row.group_id, []).append(row.member_id)
        self._by_rule: dict[str, list[str]] | None = None

    def _rule_members(self) -> dict[str, list[str]]:
        if self._by_rule is None:
            self._by_rule = {}
            ruled = [g for g in self.groups.values() if g.member_kinds]
            if ruled:
                kinds = {k for g in ruled for k in g.member_kinds}
                units = self._session.exec(
                    select(Unit)
                    .where(col(Unit.kind).in_(kinds), Unit.provisional == False, Unit.is_group == False)  # noqa: E712
                    .where(col(Unit.merged_into).is_(None))
                    .order_by(Unit.unit_id)
                ).all()
                for group in ruled:
                    self._by_rule[group.unit_id] = [
                        u.unit_id
                        for u in units
                        if u.kind in group.member_kinds
                        and (group.member_parent_id is None or u.parent_id == group.member_parent_id)
                    ]
        return self._by_rule

    def members(self, group_id: str) -> list[str]:
        explicit = self._explicit.get(group_id, [])
        ruled = self._rule_members().get(group_id, []) if self.groups.get(group_id) else []
        return list(dict.fromkeys([*explicit, *ruled]))

    def containing(self, unit: Unit) -> list[str]:
        """Groups the unit belongs to, so a town sees the tasks given to 各镇街."""
        found = [g for g, members in self._explicit.items() if unit.unit_id in members]
        if not unit.provisional and not unit.is_group:
            found += [
                g.unit_id
                for g in self.groups.values()
                if unit.kind in g.member_kinds and (g.member_parent_id is None or unit.parent_id == g.member_parent_id)
            ]
        return list(dict.fromkeys(found))

    def expand(self, unit_ids: Iterable[str]) -> list[str]:
        """Each id followed by its members when it is a group; order kept, no repeats."""
        out: list[str] = []
        for unit_id in unit_ids:
            out.append(unit_id)
            if unit_id in self.groups:
                out.extend(self.members(unit_id))
        return list(dict.fromkeys(out))
