"""Who may read a conversation: its own verified debtor, and staff who answer that creditor.

Everyone else gets NotFound, so a conversation's existence does not leak.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.chat.assignment import served_creditor_ids
from app.errors import NotFound
from app.models import Conversation, Debtor, User


def get_conversation_for_staff(
    session: Session, user: User, conversation_id: int
) -> Conversation:
    """:raises NotFound: no such conversation, or not one this user answers."""
    conversation = session.get(Conversation, conversation_id)
    served = served_creditor_ids(session, user)
    if conversation is None or (
        served is not None and conversation.creditor_id not in served
    ):
        raise NotFound("No such conversation")
    return conversation


def get_conversation_for_debtor(
    session: Session, debtor: Debtor, conversation_id: int
) -> Conversation:
    """:raises NotFound: no such conversation, or another debtor's."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.debtor_id != debtor.id:
        raise NotFound("No such conversation")
    return conversation
