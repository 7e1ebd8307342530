"""Proofs of receipt checked offline: the parser of the untrusted file, the checks, and
``python -m crypto verify-proof`` (issue 17)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.checkpoint import generate_signer_key, verifier_key_for
from crypto.errors import ProofOfReceiptError
from crypto.merkle import MerkleTree, leaf_hash
from crypto.proof_of_receipt import (
    FORMAT,
    MAX_PROOF_BYTES,
    PLAIN_EVENT_TAG,
    ProofOfReceipt,
    parse_proof,
    parse_receipt_event,
    verify_proof,
)
from tests.helpers.proofs import (
    DIGESTS,
    ORIGIN,
    run_crypto,
    signed_log_proof,
    tampered,
    write_proof,
)


def _refusal(parse, data: bytes) -> str | None:
    """Why ``parse`` refused ``data``, or ``None`` if it took it; any other exception
    escapes and fails the test."""
    try:
        parse(data)
    except ProofOfReceiptError as refused:
        return refused.reason
    return None


def document_of(proof: ProofOfReceipt) -> dict[str, object]:
    return json.loads(proof.to_json())


def test_a_proof_verifies_and_says_what_the_event_says():
    proof, signer = signed_log_proof()
    verified = verify_proof(parse_proof(proof.to_json().encode()), verifier_key_for(signer))
    assert verified.key_was_pinned
    assert not verified.file_key_differs
    assert verified.checkpoint.size == 7
    event = verified.event
    assert (event.leaf_index, event.day, event.action, event.reference, event.channel,
            event.header_sha256) == (4, date(2026, 12, 1), "report.submitted", "r3f3r3nc3",
                                     "corruption", DIGESTS)


def test_the_file_is_exactly_the_issues_format():
    proof, _signer = signed_log_proof()
    document = document_of(proof)
    assert list(document) == ["format", "origin", "verifier_key", "checkpoint", "leaf_index",
                              "leaf", "inclusion"]
    assert document["format"] == FORMAT
    assert document["origin"] == ORIGIN


@pytest.mark.parametrize("change", ["leaf", "inclusion", "signature"])
def test_each_change_is_refused(change):
    proof, signer = signed_log_proof()
    changed = json.dumps(tampered(document_of(proof))[change]).encode()
    with pytest.raises(ProofOfReceiptError) as refused:
        verify_proof(parse_proof(changed), verifier_key_for(signer))
    assert refused.value.reason == {"leaf": "inclusion", "inclusion": "inclusion",
                                    "signature": "signature"}[change]


def test_another_logs_key_is_refused_even_when_the_file_names_it():
    """A forger signs with a key of their own and writes it into the file: the file then
    agrees with itself, and only a pinned key tells it is not the organisation's."""
    organisation = generate_signer_key(ORIGIN)
    forged, forger = signed_log_proof(signer_key=generate_signer_key(ORIGIN))
    assert verify_proof(forged).verifier_key == verifier_key_for(forger)
    with pytest.raises(ProofOfReceiptError, match="not signed by the verifier key"):
        verify_proof(forged, verifier_key_for(organisation))


def test_an_event_that_is_not_a_receipt_is_refused_though_it_is_in_the_log():
    leaves = [b'["reporting-portal/audit-event/v1",0,"2026-12-01T09:13:00Z","abc",'
              b'"case_handler","case.read","report","r3f","success"]']
    tree = MerkleTree([leaf_hash(leaves[0])])
    proof, signer = signed_log_proof()
    from crypto.checkpoint import Checkpoint, sign_checkpoint
    other = ProofOfReceipt(
        origin=ORIGIN, verifier_key=proof.verifier_key,
        checkpoint=sign_checkpoint(Checkpoint(ORIGIN, 1, tree.root()), signer), leaf_index=0,
        leaf=leaves[0], inclusion=())
    with pytest.raises(ProofOfReceiptError) as refused:
        verify_proof(other)
    assert refused.value.reason == "not_a_receipt"


def test_a_receipt_in_the_logs_first_encoding_proves_reference_and_day():
    leaf = (f'["{PLAIN_EVENT_TAG}",3,"2026-11-30T00:00:00Z",null,"reporter",'
            '"report.submitted","report","oldref","success"]').encode()
    event = parse_receipt_event(leaf)
    assert (event.reference, event.day, event.channel, event.header_sha256) == (
        "oldref", date(2026, 11, 30), None, ())


@pytest.mark.parametrize("leaf", [
    # A time of day would date the reporter's act: a receipt is dated to midnight only.
    b'["reporting-portal/receipt-event/v1",4,"2026-12-01T16:13:28Z",null,"reporter",'
    b'"report.submitted","report","r","success","c",[]]',
    # A staff member's id where a reporter's event has none.
    b'["reporting-portal/receipt-event/v1",4,"2026-12-01T00:00:00Z","abc","reporter",'
    b'"report.submitted","report","r","success","c",[]]',
    # Not canonical: a space the hash would cover but the reader would not see.
    b'["reporting-portal/receipt-event/v1", 4,"2026-12-01T00:00:00Z",null,"reporter",'
    b'"report.submitted","report","r","success","c",[]]',
    b'["reporting-portal/receipt-event/v1",4,"2026-12-01T00:00:00Z",null,"reporter",'
    b'"report.submitted","report","r","success","c",["ABC"]]',
])
def test_leaves_that_are_not_receipts(leaf):
    with pytest.raises(ProofOfReceiptError):
        parse_receipt_event(leaf)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("inclusion"), "missing: inclusion"),
    (lambda d: d.update(extra=1), "unknown: extra"),
    (lambda d: d.update(format="something/else"), "format"),
    (lambda d: d.update(leaf_index=True), "leaf_index"),
    (lambda d: d.update(leaf_index=-1), "leaf_index"),
    (lambda d: d.update(leaf="not base64!"), "leaf is not base64"),
    # "QR==" decodes to "A" as "QQ==" does: only one spelling is accepted.
    (lambda d: d.update(leaf="QR=="), "not canonical base64"),
    (lambda d: d.update(inclusion=["AAAA"]), "32 bytes"),
    (lambda d: d.update(inclusion="AAAA"), "inclusion must be a list"),
    (lambda d: d.update(checkpoint=""), "checkpoint must be a non-empty string"),
])
def test_the_parser_says_what_is_wrong(edit, message):
    proof, _signer = signed_log_proof()
    document = document_of(proof)
    edit(document)
    with pytest.raises(ProofOfReceiptError, match=message):
        parse_proof(json.dumps(document).encode())


def test_the_parser_refuses_duplicate_fields_and_large_files():
    proof, _signer = signed_log_proof()
    text = proof.to_json()
    duplicated = text.replace('"leaf_index": 4', '"leaf_index": 4, "leaf_index": 5')
    with pytest.raises(ProofOfReceiptError, match="appears twice"):
        parse_proof(duplicated.encode())
    with pytest.raises(ProofOfReceiptError, match="larger than"):
        parse_proof(b" " * (MAX_PROOF_BYTES + 1))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_parse_or_raise_the_one_error(data):
    assert _refusal(parse_proof, data) in {None, "malformed"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["format", "origin", "verifier_key", "checkpoint",
                                        "leaf_index", "leaf", "inclusion", "x"]),
                       json_values, max_size=8))
def test_any_json_object_parses_or_raises_the_one_error(document):
    try:
        parsed = parse_proof(json.dumps(document).encode())
    except ProofOfReceiptError:
        return
    # What parses keeps the bounds the checks rely on.
    assert parsed.leaf_index >= 0
    assert all(len(h) == 32 for h in parsed.inclusion)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=40).flatmap(
    lambda size: st.tuples(st.just(size), st.integers(min_value=0, max_value=size - 1))),
    st.integers(min_value=0, max_value=8 * 200 - 1))
def test_any_bit_of_the_leaf_changed_is_refused(size_and_index, bit):
    size, index = size_and_index
    proof, signer = signed_log_proof(size=size, index=index)
    leaf = bytearray(proof.leaf)
    leaf[bit // 8 % len(leaf)] ^= 1 << (bit % 8)
    changed = ProofOfReceipt(**{**proof.__dict__, "leaf": bytes(leaf)})
    with pytest.raises(ProofOfReceiptError):
        verify_proof(changed, verifier_key_for(signer))


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=12))
def test_any_json_list_as_a_leaf_is_a_receipt_or_refused(fields):
    leaf = json.dumps(fields, separators=(",", ":")).encode("ascii")
    assert _refusal(parse_receipt_event, leaf) in {None, "not_a_receipt"}


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.binary(max_size=300))
def test_any_leaf_parses_as_a_receipt_or_raises_the_one_error(text, raw):
    for leaf in (text.encode("utf-8"), raw):
        assert _refusal(parse_receipt_event, leaf) in {None, "not_a_receipt"}


def test_the_command_accepts_a_proof_and_names_the_key_it_used(tmp_path):
    proof, signer = signed_log_proof()
    path = write_proof(tmp_path / "proof.json", document_of(proof))
    pinned = run_crypto("verify-proof", path, "--key", verifier_key_for(signer))
    assert pinned.returncode == 0, pinned.stderr
    assert "Proof of receipt: VALID" in pinned.stdout
    assert "given with --key" in pinned.stdout
    assert "reference: r3f3r3nc3" in pinned.stdout
    assert "day:       2026-12-01 (UTC)" in pinned.stdout
    assert "channel:   corruption" in pinned.stdout
    assert all(digest in pinned.stdout for digest in DIGESTS)
    from_file = run_crypto("verify-proof", path)
    assert from_file.returncode == 0
    assert "written in the file" in from_file.stdout


@pytest.mark.parametrize("change", ["leaf", "inclusion", "signature"])
def test_the_command_rejects_each_change(tmp_path, change):
    proof, signer = signed_log_proof()
    path = write_proof(tmp_path / "proof.json", tampered(document_of(proof))[change])
    result = run_crypto("verify-proof", path, "--key", verifier_key_for(signer))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("python -m crypto: error: proof of receipt REJECTED: ")


def test_the_command_on_a_file_that_is_no_proof(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = run_crypto("verify-proof", path)
    assert result.returncode == 1
    assert "not JSON" in result.stderr
    assert run_crypto("verify-proof").returncode == 2  # no file named
