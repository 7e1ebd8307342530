"""multilingual content: a channel's languages, and its texts in each (issue 14)

- ``channel.languages``: the languages the channel is offered in, in order (the first is
  the fallback); existing channels get ``["en"]``, the language they were written in.
- ``channel.names`` and ``channel.descriptions``: ``{language: text}``, filled from
  ``name`` and ``description``, which stay as the first language's text.
- ``channel.questionnaire``: each label and help becomes ``{language: text}`` and each
  choice ``{"code", "label"}``, its code the old text, which the answers already stored
  name. Downgrading keeps the first language's texts and each choice's code.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:40:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_LANGUAGE = "en"

channel = sa.table(
    "channel",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("questionnaire", sa.JSON()),
    sa.column("languages", sa.JSON()),
    sa.column("names", sa.JSON()),
    sa.column("descriptions", sa.JSON()),
)


def _texts(value: Any) -> Any:
    if isinstance(value, str):
        return {FIRST_LANGUAGE: value} if value.strip() else {}
    return value


def _multilingual(question: Any) -> Any:
    if not isinstance(question, dict):
        return question  # not ours to repair; the parser refuses it as before
    converted = dict(question)
    converted["label"] = _texts(question.get("label", ""))
    converted["help"] = _texts(question.get("help", ""))
    converted["choices"] = [
        {"code": c, "label": {FIRST_LANGUAGE: c}} if isinstance(c, str) else c
        for c in question.get("choices", []) or []
    ]
    return converted


def _first_text(value: Any, first: str) -> Any:
    if isinstance(value, dict):
        return value.get(first) or next(iter(value.values()), "")
    return value


def _single_language(question: Any, first: str) -> Any:
    if not isinstance(question, dict):
        return question
    converted = dict(question)
    converted["label"] = _first_text(question.get("label", ""), first)
    converted["help"] = _first_text(question.get("help", ""), first)
    converted["choices"] = [
        c.get("code") if isinstance(c, dict) else c for c in question.get("choices", []) or []
    ]
    return converted


def upgrade() -> None:
    # Added NOT NULL with a default, then filled: no table rebuild, which SQLite's batch
    # mode would need and its foreign keys (reports name their channel) would refuse.
    op.add_column("channel", sa.Column("languages", sa.JSON(), nullable=False,
                                       server_default=f'["{FIRST_LANGUAGE}"]'))
    op.add_column("channel", sa.Column("names", sa.JSON(), nullable=False,
                                       server_default="{}"))
    op.add_column("channel", sa.Column("descriptions", sa.JSON(), nullable=False,
                                       server_default="{}"))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(channel.c.id, channel.c.name, channel.c.description, channel.c.questionnaire)
    ).all()
    for row in rows:
        questions = row.questionnaire if isinstance(row.questionnaire, list) else []
        connection.execute(channel.update().where(channel.c.id == row.id).values(
            languages=[FIRST_LANGUAGE],
            names={FIRST_LANGUAGE: row.name},
            descriptions=_texts(row.description or ""),
            questionnaire=[_multilingual(q) for q in questions],
        ))


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(channel.c.id, channel.c.languages, channel.c.questionnaire)).all()
    for row in rows:
        first = (row.languages or [FIRST_LANGUAGE])[0]
        questions = row.questionnaire if isinstance(row.questionnaire, list) else []
        connection.execute(channel.update().where(channel.c.id == row.id).values(
            questionnaire=[_single_language(q, first) for q in questions]))
    # ALTER TABLE … DROP COLUMN, not a batch rebuild (see upgrade): SQLite has it since 3.35.
    op.execute(sa.text("ALTER TABLE channel DROP COLUMN descriptions"))
    op.execute(sa.text("ALTER TABLE channel DROP COLUMN names"))
    op.execute(sa.text("ALTER TABLE channel DROP COLUMN languages"))
