"""NATS credentials: what a service connects with, and the local server's generated passwords."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from proto.subjects import Subjects
from services.common.natsauth import USERS, render_authorization


@dataclass(frozen=True)
class NatsCredentials:
    user: str
    password: str

    def __repr__(self) -> str:  # keeps the password out of logs and tracebacks
        return f"NatsCredentials(user={self.user!r}, password='***')"


def local_credentials(folder: Path, users: Iterable[str], mode: int = 0o600) -> dict[str, NatsCredentials]:
    """One random password per user in `folder/<user>.password`, made on first use and kept.

    The folder is 0700 and each file `mode`, created that way rather than narrowed afterwards, so
    no other account on the machine ever gets a window to read them.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return {user: NatsCredentials(user, _password(folder / f"{user}.password", mode)) for user in users}


def _password(path: Path, mode: int) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    # Letters and digits, starting with a letter: nats-server's config parser reads a `$VARIABLE`
    # whose value starts with a digit as a number and refuses one such as `7-x…`.
    password = "k" + secrets.token_hex(24)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(password + "\n")
    return password


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds passwords), replacing any earlier one."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def local_server_auth(folder: Path, subjects: Subjects) -> tuple[Path, dict[str, NatsCredentials]]:
    """The users of a local nats-server: its config file and every user's credentials, in `folder`.

    The config is rewritten at each start (permissions follow the code); passwords are kept.
    """
    creds = local_credentials(folder, USERS)
    config = folder / "nats-server.conf"
    write_private(config, render_authorization(subjects, {user: c.password for user, c in creds.items()}))
    return config, creds
