"""Webhooks: a signed JSON body, an Idempotency-Key, and the receiver's status read."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

import httpx
import orjson

from services.notify.channels.base import Outcome, Target, http_status_outcome, short, transport_failure
from services.notify.render import Item, Rendered

SIGNATURE_HEADER = "X-Luoshi-Signature"
TIMESTAMP_HEADER = "X-Luoshi-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `timestamp.body` under `secret`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def idempotency_key(items: Sequence[Item]) -> str:
    """One item: its own key (step + subscription). A digest: a digest of its items' keys."""
    if len(items) == 1:
        return items[0].idempotency_key
    joined = "\n".join(sorted(i.idempotency_key for i in items))
    return "digest-" + hashlib.sha256(joined.encode()).hexdigest()[:32]


def body(items: Sequence[Item], rendered: Rendered) -> bytes:
    return orjson.dumps(
        {
            "title": rendered.title,
            "text": rendered.text,
            "items": [
                {
                    "idempotency_key": i.idempotency_key,
                    "step_id": i.step_id,
                    "task_id": i.task_id,
                    "level": i.level,
                    "rule": i.rule,
                    "doc_no": i.doc_no,
                    "title": i.title,
                    "message": i.message,
                    "link": i.link,
                    "copy": i.copy_only,
                }
                for i in items
            ],
        }
    )


async def send(
    client: httpx.AsyncClient, target: Target, items: Sequence[Item], rendered: Rendered, *, now: datetime, secret: str
) -> Outcome:
    payload = body(items, rendered)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key(items),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(target.secret or secret, timestamp, payload),
    }
    try:
        response = await client.post(target.address, content=payload, headers=headers)
    except httpx.HTTPError as error:
        return transport_failure(error)
    return http_status_outcome(response) or Outcome("sent", response.status_code, short(response.text))
