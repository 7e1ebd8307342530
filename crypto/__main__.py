"""Entry point for ``python -m crypto`` (see :mod:`crypto.cli`)."""

from __future__ import annotations

import sys

from crypto.cli import main

if __name__ == "__main__":
    sys.exit(main())
