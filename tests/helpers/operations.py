"""Backups and restores in tests: what the populated installation holds, and the calls."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from reporting_portal.operations.backup import BackupSummary, create_backup
from reporting_portal.operations.restore import RestoreSummary, restore_backup
from reporting_portal.web.database import get_database

# What tests/operations/conftest.py's ``populated`` installation says, to look for.
HANDLER_REPLY = "HANDLER-REPLY-5521: who else attended the tender meeting?"
REPORTER_MESSAGE = "REPORTER-MESSAGE-8830: the second envelope was handed over on Friday."


def back_up(app: Flask, path: Path) -> BackupSummary:
    """Back ``app``'s installation up to ``path``, as ``reporting-portal backup`` does."""
    return create_backup(get_database(app), app.extensions["blob_store"], path)


def restore(target: Flask, backup: Path, key_file: Path) -> RestoreSummary:
    """Restore ``backup`` into ``target``'s installation with the audit key ``key_file``."""
    settings = target.extensions["settings"]
    return restore_backup(get_database(target), target.extensions["blob_store"],
                          settings.audit_key_file, backup, key_file)
