"""Where data lives: the database, its migrations, blob stores, secret files, the models.

No Flask request machinery and no zone is imported here (import-linter keeps it so).
"""
