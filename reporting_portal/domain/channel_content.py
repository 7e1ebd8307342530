"""A channel's texts in the language of the page (issue 14).

The reporter sees the channel's name, description and questions in their page's
language, else in the channel's first language; handlers see the question labels of a
case the same way. The language only chooses what is shown: it is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting_portal.domain.questionnaire import (
    CONTENT_LANGUAGES,
    LocalizedQuestion,
    Question,
    in_language,
    localize,
    parse_questionnaire,
)
from reporting_portal.storage.models import Channel
from reporting_portal.web.languages import DEFAULT


@dataclass(frozen=True)
class ChannelText:
    name: str
    description: str
    language: str  # the language the name is in: the page's, or the fallback


def channel_languages(channel: Channel) -> list[str]:
    """The channel's languages in order; the first is the fallback."""
    chosen = [code for code in (channel.languages or []) if code in CONTENT_LANGUAGES]
    return chosen or [DEFAULT]


def channel_questions(channel: Channel) -> list[Question]:
    """The channel's questions, in all its languages."""
    return parse_questionnaire(channel.questionnaire, channel_languages(channel)[0])


def questions_in(channel: Channel, language: str) -> list[LocalizedQuestion]:
    """The channel's questions in ``language``, each text falling back to the first."""
    return localize(channel_questions(channel), language, channel_languages(channel)[0])


def channel_text(channel: Channel, language: str) -> ChannelText:
    """The channel's name and description in ``language``, or in its first language."""
    fallback = channel_languages(channel)[0]
    names = channel.names or {fallback: channel.name}
    descriptions = channel.descriptions or {fallback: channel.description}
    return ChannelText(
        name=in_language(names, language, fallback) or channel.name,
        description=in_language(descriptions, language, fallback),
        language=language if names.get(language) else fallback,
    )
