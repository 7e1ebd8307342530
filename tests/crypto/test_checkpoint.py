"""Signed tree heads in C2SP signed-note format (crypto.checkpoint).

Known answers come from golang.org/x/mod/sumdb/note, the reference implementation of
signed notes: Ed25519 signatures are deterministic, so signing its text with its key must
reproduce its note byte for byte.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.checkpoint import (
    MAX_SIGNATURE_LINES,
    Checkpoint,
    generate_signer_key,
    has_checkpoint_shape,
    open_checkpoint,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key_for,
)
from crypto.errors import CheckpointError
from crypto.merkle import EMPTY_ROOT, leaf_hash

# --- Known-answer vectors -----------------------------------------------------------
# Source: github.com/golang/mod, sumdb/note/note_test.go (TestNewSigner, TestNewVerifier,
# TestSign, TestOpen) and the example in sumdb/note/note.go's package documentation.

PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIGNATURE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgK"
    "vqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIGNATURE = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01"
    "oOTGwnWLox33WWd1RvMc+QQ=\n"
)
PETER_NOTE = PETER_TEXT + "\n" + PETER_SIGNATURE

# Source: github.com/C2SP/C2SP, tlog-checkpoint.md (its example; the key is not published,
# so only the body is used).
SPEC_CHECKPOINT_BODY = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)

ORIGIN = "portal.example/audit"


@pytest.fixture(scope="module")
def signer_key() -> str:
    return generate_signer_key(ORIGIN)


@pytest.fixture(scope="module")
def verifier_key(signer_key: str) -> str:
    return verifier_key_for(signer_key)


def _checkpoint(size: int = 42, extensions: tuple[str, ...] = ()) -> Checkpoint:
    return Checkpoint(ORIGIN, size, leaf_hash(b"root"), extensions)


# --- Keys ---------------------------------------------------------------------------


def test_reference_keys_parse_and_match() -> None:
    signer = parse_signer_key(PETER_SIGNER)
    verifier = parse_verifier_key(PETER_VERIFIER)
    assert (signer.name, signer.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert (verifier.name, verifier.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert verifier_key_for(PETER_SIGNER) == PETER_VERIFIER
    assert "AYEKFALV" not in repr(signer)


def _manglings(key: str) -> list[str]:
    # As note_test.go does: every proper substring and every single-character increment.
    substrings = {
        key[start:end]
        for start in range(len(key))
        for end in range(start + 1, len(key) + 1)
        if (start, end) != (0, len(key))
    }
    increments = {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    return sorted(substrings | increments)


def test_mangled_verifier_keys_are_refused() -> None:
    accepted = []
    for mangled in _manglings(PETER_VERIFIER):
        try:
            parse_verifier_key(mangled)
        except CheckpointError:
            continue
        accepted.append(mangled)
    assert accepted == []


def test_mangled_signer_keys_are_refused() -> None:
    accepted = []
    for mangled in _manglings(PETER_SIGNER):
        try:
            parse_signer_key(mangled)
        except CheckpointError:
            continue
        accepted.append(mangled)
    assert accepted == []


@pytest.mark.parametrize(
    "key",
    [
        # note_test.go: wrong key length and unknown algorithm, each with its key ID fixed.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+0xc74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
        PETER_SIGNER,
    ],
)
def test_malformed_verifier_keys_are_refused(key: str) -> None:
    with pytest.raises(CheckpointError):
        parse_verifier_key(key)


@pytest.mark.parametrize(
    "name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0", "line\u2028", "\udc80"]
)
def test_generating_a_key_checks_the_name(name: str) -> None:
    with pytest.raises(CheckpointError):
        generate_signer_key(name)


def test_generated_keys_work_together(signer_key: str, verifier_key: str) -> None:
    signer, verifier = parse_signer_key(signer_key), parse_verifier_key(verifier_key)
    assert signer.name == verifier.name == ORIGIN
    assert signer.key_id == verifier.key_id
    assert signer_key.startswith(f"PRIVATE+KEY+{ORIGIN}+{signer.key_id:08x}+")
    assert open_note(sign_note("hi\n", signer_key), verifier_key) == "hi\n"
    assert generate_signer_key(ORIGIN) != signer_key


# --- Signed notes -------------------------------------------------------------------


def test_signing_reproduces_the_go_note() -> None:
    assert sign_note(PETER_TEXT, PETER_SIGNER) == PETER_NOTE


def test_opening_the_go_note() -> None:
    assert open_note(PETER_NOTE, PETER_VERIFIER) == PETER_TEXT
    # Signatures by other keys are ignored, in either order.
    assert open_note(PETER_NOTE + ENOCH_SIGNATURE, PETER_VERIFIER) == PETER_TEXT
    assert open_note(PETER_NOTE + ENOCH_SIGNATURE, ENOCH_VERIFIER) == PETER_TEXT
    enoch_first = PETER_TEXT + "\n" + ENOCH_SIGNATURE + PETER_SIGNATURE
    assert open_note(enoch_first, PETER_VERIFIER) == PETER_TEXT


def test_note_text_may_contain_blank_lines() -> None:
    text = "first\n\nthird\n\n"
    assert open_note(sign_note(text, PETER_SIGNER), PETER_VERIFIER) == text


def test_note_signed_only_by_other_keys_is_refused() -> None:
    with pytest.raises(CheckpointError, match="not signed by the trusted key"):
        open_note(PETER_TEXT + "\n" + ENOCH_SIGNATURE, PETER_VERIFIER)


def test_same_name_other_key_is_ignored_not_trusted() -> None:
    # Another key named like Peter's: a different key ID, so its line must not count.
    impostor = sign_note(PETER_TEXT, generate_signer_key("PeterNeumann"))
    with pytest.raises(CheckpointError, match="not signed by the trusted key"):
        open_note(impostor, PETER_VERIFIER)


def _with_signature(signature_line: str) -> str:
    return PETER_TEXT + "\n" + signature_line


@pytest.mark.parametrize(
    "note",
    [
        # note_test.go TestOpen: invalid signatures and malformed messages.
        _with_signature(PETER_SIGNATURE[:60] + "ABCD" + PETER_SIGNATURE[60:]),
        PETER_TEXT,
        PETER_TEXT + "\n",
        _with_signature(PETER_SIGNATURE[:-1]),
        "\x01" + PETER_NOTE,
        "\udcff" + PETER_NOTE,  # the str form of Go's invalid UTF-8 byte
        _with_signature("\u2014 Bad Name " + PETER_SIGNATURE.split(" ")[2]),
        PETER_NOTE + "Unexpected line.\n",
        _with_signature(PETER_SIGNATURE * (MAX_SIGNATURE_LINES + 1)),
        # A valid signature from the trusted key does not excuse a failing one.
        PETER_NOTE + PETER_SIGNATURE[:60] + "ABCD" + PETER_SIGNATURE[60:],
        # Truncated signature: still canonical base64, now too short.
        _with_signature(PETER_SIGNATURE[:-6] + "\n"),
        _with_signature(PETER_SIGNATURE.replace("PeterNeumann", "PeterNeumann ")),
        _with_signature(PETER_SIGNATURE.replace("\u2014 ", "- ")),
        PETER_NOTE.replace("\n", "\r\n"),
    ],
)
def test_bad_notes_are_refused(note: str) -> None:
    with pytest.raises(CheckpointError):
        open_note(note, PETER_VERIFIER)


def test_tampered_body_is_refused() -> None:
    tampered = PETER_NOTE.replace("don't", "do")
    with pytest.raises(CheckpointError, match="does not verify"):
        open_note(tampered, PETER_VERIFIER)


def test_wrong_key_is_refused(verifier_key: str) -> None:
    with pytest.raises(CheckpointError, match="not signed by the trusted key"):
        open_note(PETER_NOTE, verifier_key)


@pytest.mark.parametrize("body", ["no final newline", "bell\x07\n", "", "\udc80\n"])
def test_signing_refuses_text_that_could_not_be_opened(body: str) -> None:
    with pytest.raises(CheckpointError):
        sign_note(body, PETER_SIGNER)


# --- Checkpoints --------------------------------------------------------------------


def test_spec_example_body_parses() -> None:
    checkpoint = Checkpoint.from_body(SPEC_CHECKPOINT_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.to_body() == SPEC_CHECKPOINT_BODY


def test_checkpoint_round_trip(signer_key: str, verifier_key: str) -> None:
    checkpoint = _checkpoint(extensions=("ext one", "ext two"))
    note = sign_checkpoint(checkpoint, signer_key)
    assert note.startswith(f"{ORIGIN}\n42\n")
    assert open_checkpoint(note, verifier_key) == checkpoint


def test_empty_tree_checkpoint(signer_key: str, verifier_key: str) -> None:
    checkpoint = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
    assert open_checkpoint(sign_checkpoint(checkpoint, signer_key), verifier_key) == checkpoint


def test_checkpoint_origin_must_be_the_expected_log(signer_key: str, verifier_key: str) -> None:
    other_log = Checkpoint("other.example/log", 1, EMPTY_ROOT)
    note = sign_checkpoint(other_log, signer_key)
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(note, verifier_key)
    assert open_checkpoint(note, verifier_key, origin="other.example/log") == other_log


def test_tampered_checkpoint_is_refused(signer_key: str, verifier_key: str) -> None:
    note = sign_checkpoint(_checkpoint(size=42), signer_key)
    with pytest.raises(CheckpointError):
        open_checkpoint(note.replace("\n42\n", "\n43\n", 1), verifier_key)


ROOT_LINE = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"origin\n42\n{ROOT_LINE}",  # no final newline
        "origin\n42\n",
        f"\n42\n{ROOT_LINE}\n",
        f"origin\n042\n{ROOT_LINE}\n",
        f"origin\n+42\n{ROOT_LINE}\n",
        f"origin\n4_2\n{ROOT_LINE}\n",
        f"origin\n\u0664\u0662\n{ROOT_LINE}\n",  # Arabic-Indic digits
        f"origin\n 42\n{ROOT_LINE}\n",
        f"origin\n{2**64}\n{ROOT_LINE}\n",
        f"origin\n-1\n{ROOT_LINE}\n",
        "origin\n42\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "origin\n42\n" + ROOT_LINE.rstrip("=") + "\n",
        "origin\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",  # non-canonical bits
        f"origin\n42\n{ROOT_LINE}\n\nextension after a blank line\n",
        f"origin\r\n42\n{ROOT_LINE}\n",
        f"origin\n42\n{ROOT_LINE}\n" + "x" * 70_000 + "\n",
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.from_body(body)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, EMPTY_ROOT, ()),
        ("two\nlines", 1, EMPTY_ROOT, ()),
        (ORIGIN, -1, EMPTY_ROOT, ()),
        (ORIGIN, 2**64, EMPTY_ROOT, ()),
        (ORIGIN, 1, EMPTY_ROOT[:31], ()),
        (ORIGIN, 1, EMPTY_ROOT, ("",)),
    ],
)
def test_invalid_checkpoints_cannot_be_built(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root, extensions)


# --- Hostile input ------------------------------------------------------------------

note_like_text = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["\n", "\n\n", "\u2014 ", " ", "+", "=", "PeterNeumann", "42"]),
        st.just(PETER_SIGNATURE),
        st.just(PETER_TEXT),
        st.just(ROOT_LINE),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=300)
@given(text=note_like_text)
def test_checkpoint_parser_raises_only_checkpoint_error(text: str) -> None:
    try:
        checkpoint = Checkpoint.from_body(text)
    except CheckpointError:
        return
    assert checkpoint.to_body() == text


@settings(max_examples=300)
@given(text=note_like_text)
def test_note_opener_raises_only_checkpoint_error(text: str) -> None:
    try:
        body = open_note(text, PETER_VERIFIER)
    except CheckpointError:
        return
    assert text.startswith(body)


@settings(max_examples=200)
@given(text=st.text(max_size=120))
def test_key_parsers_raise_only_checkpoint_error(text: str) -> None:
    for parse in (parse_verifier_key, parse_signer_key):
        try:
            parse(text)
        except CheckpointError:
            continue


@settings(max_examples=100)
@given(position=st.integers(min_value=0, max_value=len(PETER_NOTE) - 1), data=st.data())
def test_any_single_character_change_is_refused(position: int, data: st.DataObject) -> None:
    replacement = data.draw(st.characters().filter(lambda char: char != PETER_NOTE[position]))
    altered = PETER_NOTE[:position] + replacement + PETER_NOTE[position + 1 :]
    with pytest.raises(CheckpointError):
        open_note(altered, PETER_VERIFIER)


@pytest.mark.parametrize("note", ["", "hello\n", "a\n1\n\n\u2014 a b\n",
                                  "reporting-portal.test/audit\n5\nnot base64\n\n\u2014 x AAAA\n"])
def test_a_file_that_is_no_checkpoint_has_no_checkpoint_shape(note):
    assert not has_checkpoint_shape(note)


def test_a_checkpoint_signed_by_any_key_has_the_shape(signer_key):
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, b"\1" * 32), signer_key)
    assert has_checkpoint_shape(note)
    assert has_checkpoint_shape(sign_checkpoint(Checkpoint(ORIGIN, 3, b"\1" * 32),
                                                generate_signer_key("another.example/log")))
