"""Leaders held as posts: a task names a person, the post answers for it, the holder changes.

Notices say responsibility passes to whoever succeeds in the post, so a leader name on a task
is resolved to the post its bearer held when the notice was issued, and the post's current
holder is who answers now. Tasks keep the name as written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, col, select

from proto.task import LeaderRef
from services.common.errors import ApiError
from services.registry.directory_models import Post, PostHolder
from services.registry.models import TaskLeader


def post_id_for(title: str) -> str:
    return "p" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:10]


class LeaderBook:
    """Posts and holders for one operation (the directory of posts is small)."""

    def __init__(self, session: Session) -> None:
        self.posts = {p.post_id: p for p in session.exec(select(Post)).all()}
        self._by_name: dict[str, list[PostHolder]] = {}
        self.current: dict[str, str] = {}
        for row in session.exec(select(PostHolder).order_by(col(PostHolder.id))).all():
            self._by_name.setdefault(row.name, []).append(row)
            if row.until is None:
                self.current[row.post_id] = row.name

    def post_of(self, name: str, on: date | None = None) -> str | None:
        """The post `name` held on `on` (else most recently); a post title names itself."""
        held = self._by_name.get(name, [])
        if on is not None:
            for row in reversed(held):
                if (row.since is None or row.since <= on) and (row.until is None or on < row.until):
                    return row.post_id
        if held:
            return held[-1].post_id
        for post in self.posts.values():
            if post.title == name:
                return post.post_id
        return None

    def ref(self, name: str, on: date | None = None) -> LeaderRef:
        post_id = self.post_of(name, on)
        return LeaderRef(name=name, post_id=post_id, holder=self.current.get(post_id) if post_id else None)

    def names_for(self, query: str) -> set[str]:
        """Every leader name a query reaches: a person, the posts they hold, or a post's id/title."""
        posts = {p.post_id for p in self.posts.values() if query in (p.post_id, p.title)}
        posts |= {post for post, holder in self.current.items() if holder == query}
        names = {query}
        for rows in self._by_name.values():
            names |= {r.name for r in rows if r.post_id in posts}
        names |= {self.posts[p].title for p in posts}
        return names

    def is_known(self, name: str) -> bool:
        return name in self._by_name or any(p.title == name or p.post_id == name for p in self.posts.values())


def known_leaders(session: Session, names: Iterable[str]) -> set[str]:
    """Names the directory or a registered task already knows; anything else is a typo to report."""
    wanted = set(names)
    book = LeaderBook(session)
    known = {n for n in wanted if book.is_known(n)}
    rest = wanted - known
    if rest:
        known |= set(session.exec(select(TaskLeader.name).where(col(TaskLeader.name).in_(rest))).all())
    return known


def upsert_post(
    session: Session,
    *,
    title: str,
    holder: str | None = None,
    since: date | None = None,
    past_holders: Iterable[str] = (),
    unit_id: str | None = None,
    today: date,
) -> tuple[Post, bool]:
    """Create a post or hand it to a new holder; returns the post and whether the holder changed.

    `today` (the government's date, from the service clock) ends the last holder's term when the
    change gives no `since`.
    """
    title = title.strip()
    if not title:
        raise ApiError(422, "empty_post_title", "职务名称不能为空", "a post needs a title")
    post = session.get(Post, post_id_for(title)) or Post(post_id=post_id_for(title), title=title)
    if unit_id is not None:
        post.unit_id = unit_id
    session.add(post)
    session.flush()
    rows = session.exec(select(PostHolder).where(PostHolder.post_id == post.post_id)).all()
    names = {r.name for r in rows}
    for name in past_holders:
        if name and name not in names:
            session.add(PostHolder(post_id=post.post_id, name=name, until=since or date.min))
            names.add(name)
    changed = False
    current = next((r for r in rows if r.until is None), None)
    holder = holder.strip() if holder else None
    if holder and (current is None or current.name != holder):
        if current is not None:
            current.until = since or today
            session.add(current)
        session.add(PostHolder(post_id=post.post_id, name=holder, since=since))
        changed = True
    session.flush()
    return post, changed


def tasks_of_post(session: Session, post_id: str) -> set[str]:
    holders = session.exec(select(PostHolder.name).where(PostHolder.post_id == post_id)).all()
    post = session.get(Post, post_id)
    names = {*holders, *([post.title] if post else [])}
    if not names:
        return set()
    return set(session.exec(select(TaskLeader.task_id).where(col(TaskLeader.name).in_(names))).all())
