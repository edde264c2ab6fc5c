"""Who may do what on NATS: one user per service, a read-only supervisor, the office's operator, as nats-server config.

Permissions are generated for one subject root (`luoshi` in a deployment, a fresh root per test)
rather than written with a `*` first token: stream and durable consumer names carry the root
too (`LUOSHI_TASK`, `luoshi_progress-task-upserted`), and NATS wildcards match whole tokens only,
so a root wildcard would have to open the JetStream API for every stream and consumer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from proto.streams import stream_defs
from proto.subjects import Subjects

SERVICES = ("ingest", "registry", "progress", "notify")
SUPERVISOR = "supervisor"
OPERATOR = "operator"
USERS = (*SERVICES, SUPERVISOR, OPERATOR)


@dataclass(frozen=True)
class Consumer:
    subject: str  # below the root
    name: str  # the durable's name without the root


def _token_consumer(service: str) -> Consumer:
    return Consumer("token.changed.*", f"{service}-token-changed")


# What each service's app declares (a test compares): subjects below the root.
PUBLISHES: dict[str, tuple[str, ...]] = {
    "ingest": ("notice.parsed",),
    "registry": ("task.upserted", "directory.contact.changed.>"),
    "progress": ("progress.reported", "progress.signed", "status.changed", "token.changed.*", "bulletin.published"),
    "notify": ("escalation.raised.>", "escalation.leader.>", "clock.tick"),
}
CONSUMES: dict[str, tuple[Consumer, ...]] = {
    "ingest": (_token_consumer("ingest"),),
    "registry": (Consumer("notice.parsed", "registry-notice-parsed"), _token_consumer("registry")),
    "progress": (
        Consumer("task.upserted", "progress-task-upserted"),
        Consumer("clock.tick", "progress-clock-tick"),
        Consumer("escalation.raised.head.>", "progress-escalation-head"),
        Consumer("clock.tick", "progress-bulletin-schedule"),
        _token_consumer("progress"),
    ),
    "notify": (
        Consumer("status.changed", "notify-status-changed"),
        Consumer("task.upserted", "notify-task-upserted"),
        Consumer("progress.reported", "notify-progress-reported"),
        Consumer("progress.signed", "notify-progress-signed"),
        Consumer("clock.tick", "notify-clock-tick"),
        Consumer("directory.contact.changed.>", "notify-contact-changed"),
        Consumer("bulletin.published", "notify-bulletin-published"),
        _token_consumer("notify"),
    ),
}


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def inbox_prefix(user: str) -> str:
    """Each user's own reply subjects: no user can read the replies (or fetched events) of another."""
    return f"_INBOX.{user}"


def durable_name(subjects: Subjects, consumer: str) -> str:
    return f"{subjects.root.replace('.', '_')}_{consumer}"


def stream_of(subjects: Subjects, subject: str) -> str:
    for stream in stream_defs(subjects):
        for pattern in stream.subjects:
            if subject.startswith(pattern.removesuffix(">")):
                return stream.name
    raise KeyError(subject)


def service_permissions(subjects: Subjects, service: str) -> Permissions:
    root = subjects.root
    events = [f"{root}.{s}" for s in PUBLISHES[service]] + [subjects.dead_letter(service)]
    owned = sorted({stream_of(subjects, s) for s in events})
    api = "$JS.API"
    # Any service may be the first to start, so each creates missing streams (from proto's
    # definitions); only a stream's publishers may update it, since an update can cut its limits.
    stream_api = [f"{api}.STREAM.{verb}.{s.name}" for s in stream_defs(subjects) for verb in ("INFO", "CREATE")]
    stream_api += [f"{api}.STREAM.UPDATE.{name}" for name in owned]
    return Permissions(
        publish=(*events, *stream_api, *(p for c in CONSUMES[service] for p in _consumer_api(subjects, c))),
        subscribe=(f"{inbox_prefix(service)}.>",),
    )


def _consumer_api(subjects: Subjects, consumer: Consumer) -> list[str]:
    """Create (or re-create at start), read, pull from and ack its own durables; never delete."""
    stream = stream_of(subjects, f"{subjects.root}.{consumer.subject}")
    durable = durable_name(subjects, consumer.name)
    return [
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",  # the filter subject's tokens follow
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def supervisor_permissions(subjects: Subjects) -> Permissions:
    """Reads escalations as they are raised (core NATS), nothing else: no publish (rendered as a
    deny of `>`), no JetStream API, so no replay of the stream."""
    return Permissions(publish=(), subscribe=(subjects.escalation_raised_all, f"{subjects.root}.escalation.leader.>"))


def operator_permissions(subjects: Subjects) -> Permissions:
    """`luoshi dlq`: reads and deletes dead letters, and re-publishes an event to the subject it came on.

    Any service's event subject, since a dead letter may hold any of them; never a dead-letter
    subject, and no consumer, so it cannot take events from the services.
    """
    events = sorted({f"{subjects.root}.{s}" for published in PUBLISHES.values() for s in published})
    dlq = stream_of(subjects, subjects.dead_letter(OPERATOR))
    dlq_api = [f"$JS.API.STREAM.{verb}.{dlq}" for verb in ("INFO", "MSG.GET", "MSG.DELETE")]
    return Permissions(publish=(*events, *dlq_api), subscribe=(f"{inbox_prefix(OPERATOR)}.>",))


def permissions(subjects: Subjects, user: str) -> Permissions:
    if user == SUPERVISOR:
        return supervisor_permissions(subjects)
    if user == OPERATOR:
        return operator_permissions(subjects)
    return service_permissions(subjects, user)


def env_password(user: str) -> str:
    """The environment variable the deployment's nats-server reads a user's password from."""
    return f"NATS_{user.upper()}_PASSWORD"


def render_authorization(subjects: Subjects, passwords: Mapping[str, str] | None = None) -> str:
    """The `authorization` block of a nats-server config for every user.

    With `passwords` (user → password) they are written in; without, each password is the
    server's environment variable `env_password(user)`, as in the compose deployment.
    """
    entries = [_user_entry(user, permissions(subjects, user), passwords) for user in USERS]
    return "authorization {\n  users: [\n" + "\n".join(entries) + "\n  ]\n}\n"


def _user_entry(user: str, perms: Permissions, passwords: Mapping[str, str] | None) -> str:
    password = json.dumps(passwords[user]) if passwords is not None else f"${env_password(user)}"
    publish = ("allow", perms.publish) if perms.publish else ("deny", (">",))
    return "\n".join(
        [
            "    {",
            f"      user: {json.dumps(user)}",
            f"      password: {password}",
            "      permissions: {",
            *_conf_list("publish", *publish),
            *_conf_list("subscribe", "allow", perms.subscribe),
            "      }",
            "    }",
        ]
    )


def _conf_list(direction: str, kind: str, subjects: tuple[str, ...]) -> list[str]:
    # Quoted (JSON) strings, so `$JS…` is never read as a variable reference.
    return [
        f"        {direction}: {{",
        f"          {kind}: [",
        *(f"            {json.dumps(subject)}" for subject in subjects),
        "          ]",
        "        }",
    ]
