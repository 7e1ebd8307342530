"""The words of a notice, and handing one mail to the SMTP server.

A notice says how many new items wait and, for handlers, that a date on one of their
cases is near or past: never which report, channel, reporter, date or content, and no
link parameter. A mailbox is far less protected than this portal (other people's
servers, phones, forwarding rules).

Delivery is split into SMTP's steps so that a failure can be told apart: before the
message itself went out, nothing was delivered and the mail may be tried again; a
refusal of the message is just as definite; but a connection lost while the message
was going out leaves it unknown whether the server took it, and such a mail is never
tried again (one mail too few beats one too many).
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from config.settings import Settings

SMTP_TIMEOUT_SECONDS = 10
_OK, _WILL_FORWARD = 250, 251  # RFC 5321's replies that accept a sender or recipient
DEADLINE_SENTENCE = _l("A date on one of your cases is two days away or has passed. "
                       "Sign in to see it.")


@dataclass(frozen=True, slots=True)
class NoticeContent:
    """All a mail may say: a count, and whether a deadline needs a look."""

    new_items: int
    deadline_reminder: bool


class Delivery(StrEnum):
    SENT = "sent"
    # Not delivered, for sure: the server said no, or the connection failed before the
    # message went out. The connection may be unusable afterwards.
    REFUSED = "refused"
    # The connection broke while the message was going out: it may have arrived.
    UNKNOWN = "unknown"
    # The e-mail library cannot write the address or a header: trying again won't help.
    UNWRITABLE = "unwritable"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Delivery
    # Only the exception's type name or SMTP's reply code (``reply-451``) is ever logged:
    # its text, like the server's reply, can quote the address.
    reason: str
    connection_usable: bool


def notice_text(organisation_name: str, content: NoticeContent) -> str:
    """The whole body of a notice, in the current locale (see :func:`notice_message`)."""
    lines = []
    if content.new_items:
        lines.append(ngettext(
            "You have %(num)d new item waiting in %(organisation)s. Sign in to read them.",
            "You have %(num)d new items waiting in %(organisation)s. Sign in to read them.",
            content.new_items, organisation=organisation_name))
    if content.deadline_reminder:
        lines.append(str(DEADLINE_SENTENCE))
    return "\n\n".join(lines) + "\n"


def notice_subject(organisation_name: str, content: NoticeContent) -> str:
    if content.new_items:
        return str(_("%(organisation)s: new items", organisation=organisation_name))
    return str(_("%(organisation)s: a reminder", organisation=organisation_name))


def notice_message(settings: Settings, to: str, content: NoticeContent) -> EmailMessage:
    """The mail to ``to``, in the installation's ``mail_language`` (staff notices are
    written off any request, so no reader's choice applies); raises ValueError if the
    address cannot be written."""
    with force_locale(settings.mail_language):
        subject = notice_subject(settings.organisation_name, content)
        body = notice_text(settings.organisation_name, content)
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    # The sender's domain, not this host's name, so the Message-ID says nothing of the server.
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(body)
    return message


def connect(settings: Settings) -> smtplib.SMTP:
    """An SMTP connection, upgraded and logged in as the settings say."""
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def deliver(smtp: smtplib.SMTP, message: EmailMessage) -> DeliveryResult:
    """Hand ``message`` to the server, step by step (see the module's docstring)."""
    try:
        body = message.as_bytes()
        sender, recipient = str(message["From"]), str(message["To"])
    except ValueError as error:
        return DeliveryResult(Delivery.UNWRITABLE, type(error).__name__, True)
    refused = _envelope(smtp, sender, recipient)
    if refused is not None:
        return refused
    try:
        # smtplib raises for a refused DATA command, and returns the reply to the message.
        code, _reply = smtp.data(body)
    except smtplib.SMTPDataError as error:  # the server answered: it did not take it
        return DeliveryResult(Delivery.REFUSED, f"reply-{error.smtp_code}", _reset(smtp))
    except (OSError, smtplib.SMTPException) as error:
        return DeliveryResult(Delivery.UNKNOWN, type(error).__name__, False)
    if code != _OK:
        return DeliveryResult(Delivery.REFUSED, f"reply-{code}", _reset(smtp))
    return DeliveryResult(Delivery.SENT, "", True)


def _envelope(smtp: smtplib.SMTP, sender: str, recipient: str) -> DeliveryResult | None:
    """MAIL FROM and RCPT TO; None when both were accepted. Nothing is delivered yet."""
    try:
        smtp.ehlo_or_helo_if_needed()
        code, _reply = smtp.mail(sender)
        if code == _OK:
            code, _reply = smtp.rcpt(recipient)
    # An address smtplib cannot put in a command (UnicodeEncodeError is a ValueError).
    except ValueError as error:
        return DeliveryResult(Delivery.UNWRITABLE, type(error).__name__, True)
    except (OSError, smtplib.SMTPException) as error:
        return DeliveryResult(Delivery.REFUSED, type(error).__name__, False)
    if code not in (_OK, _WILL_FORWARD):
        return DeliveryResult(Delivery.REFUSED, f"reply-{code}", _reset(smtp))
    return None


def _reset(smtp: smtplib.SMTP) -> bool:
    try:
        smtp.rset()
    except (OSError, smtplib.SMTPException):
        return False
    return True


def close(smtp: smtplib.SMTP) -> None:
    """Say goodbye if the server still listens; close the socket in any case."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
