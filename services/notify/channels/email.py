"""E-mail through SMTP (aiosmtplib): plain text with an HTML alternative."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from services.notify.channels.base import Outcome, Target, short
from services.notify.render import Rendered


def message(target: Target, rendered: Rendered, *, sender: str, key: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = target.address
    mail["Subject"] = rendered.title
    mail["X-Luoshi-Idempotency-Key"] = key
    mail.set_content(rendered.text)
    mail.add_alternative(f"<html><body>{rendered.html}</body></html>", subtype="html")
    return mail


async def send(
    mail: EmailMessage, *, host: str, port: int, user: str, password: str, starttls: bool, timeout: float
) -> Outcome:
    try:
        _refused, answer = await aiosmtplib.send(
            mail,
            hostname=host,
            port=port,
            username=user or None,
            password=password or None,
            start_tls=starttls,
            timeout=timeout,
        )
    except aiosmtplib.SMTPResponseException as error:
        # 4xx: try later; 5xx refusals also retry until the dead letters, where the office sees them.
        return Outcome("retry", error.code, short(error.message))
    except (aiosmtplib.SMTPException, OSError) as error:
        return Outcome("retry", 0, short(f"{type(error).__name__}: {error}"))
    return Outcome("sent", 250, short(answer))
