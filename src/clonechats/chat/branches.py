"""Branches: editing any message you sent forks the chat there. The edited message and every
later one are put away as one branch (each gets `superseded_by` the new message and
`hidden_with` the edited one's id), and the new text starts another branch from the same point.
The versions of a message (the original and every edit of it, linked by `replaces_message_id`)
are paged through like alternative replies, and switching to one shows its branch exactly as it
was left, nested forks and chosen replies included, while the branch shown before is put away.

A switch takes the conversation's reply lease, like choosing a reply, so it never races a reply
being written. It hides the shown branch before it shows the chosen one: a crash in between
leaves neither shown, never both, and switching again (the same call) repairs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.chat import repo
from clonechats.chat.replies import take_generation
from clonechats.chat.repo import Message
from clonechats.chat.service import get_message
from clonechats.errors import Conflict

if TYPE_CHECKING:
    from clonechats.context import Ctx



class NotSwitchable(Conflict):
    code = "not_choosable"
    message = "Only another version of a message shown in this chat can be chosen."


def _groups(edits: list[Message]) -> dict[str, list[str]]:
    """For each message in an edit chain, the ids of all versions in it (edit links joined)."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for edit in edits:
        if edit["replaces_message_id"] is not None:
            parent[root(edit["_id"])] = root(edit["replaces_message_id"])
    members: dict[str, list[str]] = {}
    for node in list(parent):
        members.setdefault(root(node), []).append(node)
    return {node: members[root(node)] for node in parent}


async def version_groups(db: Any, conversation_id: str) -> dict[str, list[Message]]:
    """For every user message with other versions, all its versions, oldest first."""
    groups = _groups(await repo.edited_user_messages(db, conversation_id))
    if not groups:
        return {}
    found = {m["_id"]: m for m in await repo.messages_in(db, conversation_id, list(groups))}
    return {node: sorted((found[i] for i in ids if i in found), key=lambda m: m["seq"])
            for node, ids in groups.items()}


def reachable(versions: list[Message]) -> bool:
    """Whether the point these versions fork from is on the shown path: each version is shown
    or put away as its own branch (not inside another branch that is put away)."""
    return all(v.get("superseded_by") is None or v.get("hidden_with") == v["_id"]
               for v in versions)


async def of(ctx: Ctx, message: Message,
             ) -> tuple[list[Message], Message | None]:
    """The versions of user message `message`, oldest first, and the one shown."""
    groups = await version_groups(ctx.db, message["conversation_id"])
    versions = groups.get(message["_id"], [message])
    return versions, next((v for v in versions if v.get("superseded_by") is None), None)


async def switch(ctx: Ctx, *, user_id: str, conversation_id: str,
                 message_id: str) -> Message:
    """Show the branch of version `message_id` in place of the branch shown now."""
    lease = f"branch:{repo.new_id()}"
    conversation = await take_generation(ctx, user_id=user_id, conversation_id=conversation_id,
                                         message_id=lease, seq_step=0)
    try:
        versions, shown = await of(ctx, await get_message(
            ctx, user_id=user_id, conversation_id=conversation_id, message_id=message_id))
        if len(versions) < 2 or not reachable(versions):
            raise NotSwitchable()
        if shown is None or shown["_id"] != message_id:
            fork_seq = versions[0]["seq"]
            if shown is not None:
                await repo.hide_branch(ctx.db, conversation_id, from_seq=fork_seq,
                                       by=message_id, branch=shown["_id"])
            await repo.restore_branch(ctx.db, conversation_id, message_id)
            await repo.forget_summary_from(ctx.db, conversation, fork_seq)
    finally:
        await repo.release_generation(ctx.db, conversation_id, message_id=lease)
    return await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                             message_id=message_id)
