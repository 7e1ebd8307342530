"""What both zones share: actors, accounts, the installation, channels and questionnaires,
report objects, messages, deadlines, retention, notifications. Imports neither zone."""
