"""`directory.contact.changed`: where a unit or a leader's post reads its messages.

Published by registry (which keeps the directory) when the office sets a unit's or a post's
contact fields; notify keeps them and makes the default subscriptions from them. The subject
ends with the kind and the id and the stream keeps the last message per subject, so a notify
that starts with an empty database replays the current contacts of every unit and post.

The robot's 加签 secret travels in the event (notify signs with it); it stays on NATS, inside
the deployment, and no route of either service returns it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from proto.envelope import Event


class ContactChanged(Event):
    kind: Literal["unit", "post"] = Field(description="Whose contact: a unit or a leader's post.")
    owner_id: str = Field(description="The unit's or the post's directory id.", examples=["u3f2a9c1b0d"])
    name: str = Field(default="", description="The unit's name or the post's title, for messages.")
    robot_channel: str = Field(default="", description="dingtalk or wecom: the group robot's kind.")
    robot_url: str = Field(default="", description="The group robot's webhook URL; empty for none.")
    robot_secret: str = Field(default="", description="The robot's 加签 secret; empty for none.")
    email: str = Field(default="", description="The address e-mails go to; empty for none.")
    removed: bool = Field(default=False, description="The unit or post left the directory.")
