"""risk action codes: a signal's action taken is stored as a code, worded by its reader

Revision ID: a7c4e9d2f1b6
Revises: e3b8d5f0a2c4
Create Date: 2026-11-23 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c4e9d2f1b6"
down_revision: str | None = "e3b8d5f0a2c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The English sentences stored before, and the code each one is now.
_CODES = {
    "all outreach stopped (cease contact); confirmed to the debtor once": "outreach_stopped",
    "texts to this number stopped (wrong person)": "number_stopped",
    "texts to this number stopped": "number_stopped",
    "outreach paused until a supervisor reviews it": "paused_for_review",
    "logged for review": "logged_for_review",
    "reminders paused; an agent reviews the dispute": "dispute_review",
}
_BREATHING_SPACE_SENTENCE = "reminders paused for % days"
_BACK = {
    "outreach_stopped": "all outreach stopped (cease contact); confirmed to the debtor once",
    "number_stopped": "texts to this number stopped",
    "paused_for_review": "outreach paused until a supervisor reviews it",
    "logged_for_review": "logged for review",
    "dispute_review": "reminders paused; an agent reviews the dispute",
    # How many days is not kept; the account's paused_until still says until when.
    "breathing_space": "reminders paused for breathing space",
}
_signals = sa.table("risk_signals", sa.column("action_taken", sa.String))


def upgrade() -> None:
    for sentence, code in _CODES.items():
        op.execute(
            _signals.update()
            .where(_signals.c.action_taken == sentence)
            .values(action_taken=code)
        )
    op.execute(
        _signals.update()
        .where(_signals.c.action_taken.like(_BREATHING_SPACE_SENTENCE))
        .values(action_taken="breathing_space")
    )


def downgrade() -> None:
    for code, sentence in _BACK.items():
        op.execute(
            _signals.update()
            .where(_signals.c.action_taken == code)
            .values(action_taken=sentence)
        )
