"""The proof upload: shape only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize

from crypto.proof_of_receipt import MAX_PROOF_BYTES


class ProofUploadForm(FlaskForm):
    proof = FileField(
        _l("Proof of receipt"),
        description=_l("The file downloaded from the mailbox (proof-of-receipt-….json)."),
        validators=[FileRequired(_l("Choose the proof file.")),
                    FileSize(max_size=MAX_PROOF_BYTES,
                             message=_l("This file is too large to be a proof of receipt."))],
        render_kw={"accept": ".json,application/json"},
    )
