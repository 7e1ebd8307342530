"""The staff trust zone: sign-in, home, casework, identity custody, the auditor's screens
and administration. Nothing here imports the reporter zone (import-linter keeps it so)."""
