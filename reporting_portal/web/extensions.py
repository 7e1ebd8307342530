"""Extensions, created unbound and attached in the factory, and accessors for the
per-application services the factory builds."""

from __future__ import annotations

from flask import current_app
from flask_babel import Babel
from flask_wtf import CSRFProtect

from config.settings import Settings
from reporting_portal.storage.blobstore import BlobStore

csrf = CSRFProtect()
babel = Babel()


def get_settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def get_blob_store() -> BlobStore:
    store: BlobStore = current_app.extensions["blob_store"]
    return store
