"""Auditor forms: shape only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize

# Our heads are a few hundred bytes; 64 KiB leaves room for witnesses' signature lines.
HEAD_FILE_LIMIT = 64 * 1024


class HeadUploadForm(FlaskForm):
    """A signed tree head the auditor saved earlier."""

    head = FileField(
        _l("Saved tree head"),
        description=_l("The text file you downloaded earlier (audit-head-….txt)."),
        validators=[FileRequired(_l("Choose the file you saved.")),
                    FileSize(max_size=HEAD_FILE_LIMIT, message=_l("This file is too large "
                                                                  "to be a tree head."))],
        render_kw={"accept": ".txt,text/plain"},
    )

