"""The ``reporting-portal`` command: set up, serve and administer an installation.

Each module adds its commands to the one group in ``group``; importing them here is what
registers them, so ``reporting_portal.cli:main`` is the whole command.
"""

from reporting_portal.cli import audit, backups, jobs, rotation, setup
from reporting_portal.cli.group import main

__all__ = ["audit", "backups", "jobs", "main", "rotation", "setup"]
