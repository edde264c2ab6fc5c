"""The directory's tables: units, their aliases and group members; leaders' posts and holders."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from services.common.params import NAME_MAX
from services.common.timestamps import UtcDateTime

UNIT_KINDS = (
    "bureau",
    "town",
    "street",
    "park",
    "company",
    "county_government",
    "government",
    "taskforce",
    "group",
    "other",
    # Outside the office's scope (another county, a city bureau): shown on tasks, never chased.
    "external",
)


class Unit(SQLModel, table=True):
    """A unit of the directory, or a provisional one created for a name nobody has mapped yet.

    `unit_id` is `unit_token(name at creation)` and never changes, so subjects and progress
    records keep pointing at the same unit when the office renames it.
    """

    __tablename__ = "registry_unit"

    unit_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(index=True, max_length=NAME_MAX, description="Canonical name.")
    kind: str = Field(default="other", max_length=20)
    parent_id: str | None = Field(default=None, max_length=32)
    provisional: bool = Field(default=False, index=True)
    is_group: bool = False
    # A group's members by rule, beside the explicit member rows: every confirmed unit of
    # these kinds (and of `member_parent_id`, when set) belongs, so a new town joins 各镇街.
    member_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    member_parent_id: str | None = Field(default=None, max_length=32)
    merged_into: str | None = Field(default=None, max_length=32, index=True)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_type=UtcDateTime)
    # Where it reads messages (issue 15); sent to notify as `directory.contact.changed`.
    robot_channel: str = Field(default="", max_length=20)
    robot_url: str = Field(default="", max_length=500)
    robot_secret: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=200)


class UnitAlias(SQLModel, table=True):
    """A matching key (see `names.match_key`) pointing at the unit it names."""

    __tablename__ = "registry_unit_alias"

    key: str = Field(primary_key=True, max_length=NAME_MAX)
    alias: str = Field(max_length=NAME_MAX, description="The alias as the office or a notice wrote it.")
    unit_id: str = Field(index=True, max_length=32)


class GroupMember(SQLModel, table=True):
    __tablename__ = "registry_group_member"

    group_id: str = Field(primary_key=True, max_length=32)
    member_id: str = Field(primary_key=True, max_length=32, index=True)


class Post(SQLModel, table=True):
    """A leader's post (区长, 副区长（分管工业）…): tasks follow the post, not the person."""

    __tablename__ = "registry_post"

    post_id: str = Field(primary_key=True, max_length=32)
    title: str = Field(max_length=200, index=True)
    unit_id: str | None = Field(default=None, max_length=32)
    # Where it reads messages (issue 15); sent to notify as `directory.contact.changed`.
    robot_channel: str = Field(default="", max_length=20)
    robot_url: str = Field(default="", max_length=500)
    robot_secret: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=200)


class PostHolder(SQLModel, table=True):
    """Who held a post and when; the row without `until` is the current holder."""

    __tablename__ = "registry_post_holder"

    id: int | None = Field(default=None, primary_key=True)
    post_id: str = Field(index=True, max_length=32)
    name: str = Field(index=True, max_length=100)
    since: date | None = None
    until: date | None = None
