"""DingTalk and WeCom group robots: their markdown JSON, DingTalk's signature, their error codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote_plus

import httpx

from services.notify.channels.base import Outcome, Target, http_status_outcome, short, transport_failure
from services.notify.render import Rendered

# DingTalk: 130101 sending too fast; 310000 security check failed (keyword, sign, IP);
# 300001/300005/400101/400102/400013 token invalid or gone, robot stopped, group dissolved.
DINGTALK_RATE_LIMITED = frozenset({130101, 130102})
DINGTALK_BROKEN = frozenset({300001, 300005, 310000, 400013, 400101, 400102})
# WeCom: 45009 API frequency out of limit; 93000 invalid webhook url (robot removed), 93004
# robot disabled, 40014/40058 invalid key.
WECOM_RATE_LIMITED = frozenset({45009, 45033})
WECOM_BROKEN = frozenset({93000, 93004, 40014, 40058})
MARKDOWN_MAX = 4000  # WeCom refuses markdown over 4096 bytes; DingTalk takes more


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign`: base64 HMAC-SHA256 of "timestamp\\nsecret" under the secret, URL-quoted."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(mac))


def dingtalk_url(target: Target, now: datetime) -> str:
    if not target.secret:
        return target.address
    stamp = int(now.timestamp() * 1000)
    joiner = "&" if "?" in target.address else "?"
    return f"{target.address}{joiner}timestamp={stamp}&sign={dingtalk_sign(target.secret, stamp)}"


def _clip(text: str, limit: int = MARKDOWN_MAX) -> str:
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 20].decode(errors="ignore") + "\n\n……（余下见控制台）"


def dingtalk_body(rendered: Rendered) -> dict[str, object]:
    return {"msgtype": "markdown", "markdown": {"title": rendered.title, "text": _clip(rendered.markdown, 18000)}}


def wecom_body(rendered: Rendered) -> dict[str, object]:
    return {"msgtype": "markdown", "markdown": {"content": _clip(rendered.markdown)}}


def _verdict(response: httpx.Response, rate_limited: frozenset[int], broken: frozenset[int]) -> Outcome:
    by_status = http_status_outcome(response)
    if by_status is not None:
        return by_status
    try:
        code = int(response.json().get("errcode", -1))
    except (ValueError, AttributeError, TypeError):
        return Outcome("retry", response.status_code, short(response.text))
    if code == 0:
        return Outcome("sent", response.status_code, short(response.text))
    if code in rate_limited:
        return Outcome("rate_limited", code, short(response.text))
    if code in broken:
        return Outcome("broken", code, short(response.text))
    return Outcome("retry", code, short(response.text))


async def send_dingtalk(client: httpx.AsyncClient, target: Target, rendered: Rendered, *, now: datetime) -> Outcome:
    try:
        response = await client.post(dingtalk_url(target, now), json=dingtalk_body(rendered))
    except httpx.HTTPError as error:
        return transport_failure(error)
    return _verdict(response, DINGTALK_RATE_LIMITED, DINGTALK_BROKEN)


async def send_wecom(client: httpx.AsyncClient, target: Target, rendered: Rendered) -> Outcome:
    try:
        response = await client.post(target.address, json=wecom_body(rendered))
    except httpx.HTTPError as error:
        return transport_failure(error)
    return _verdict(response, WECOM_RATE_LIMITED, WECOM_BROKEN)
