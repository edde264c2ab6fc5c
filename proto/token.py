"""`token.changed`: an API token was issued or revoked, so every service can check it locally.

Only the token's sha256 travels; the secret is shown once to whoever asked for it and never
stored or sent. The subject ends with the token id and the stream keeps the last message per
subject, so a service that starts with an empty database replays the current state of every token.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from proto.envelope import Event


class TokenChanged(Event):
    """Published by progress (the issuer) when a token is issued or revoked."""

    token_id: str = Field(description="Public id of the token (the part after `lsp_`).", examples=["a1b2c3d4e5f6"])
    token_hash: str = Field(description="sha256 hex digest of the whole token.")
    role: str = Field(description="office, supervisor or unit.", examples=["unit"])
    unit_id: str | None = Field(default=None, description="The unit a unit token acts for (directory id).")
    post_id: str | None = Field(default=None, description="The post (区长, 督查室主任…) a supervisor token is tied to.")
    label: str = Field(default="", description="Who holds the token, for people reading the audit trail.")
    created_at: datetime = Field(description="When the token was issued.")
    expires_at: datetime | None = Field(default=None, description="After this instant the token is refused.")
    revoked_at: datetime | None = Field(default=None, description="Set once revoked; a revoked token never returns.")
