"""The public trust zone: the landing page, intake and the receipt-code mailbox.

Nothing here imports the staff zone (import-linter keeps it so): the reporter app has no
staff route, and a reporter page cannot reach staff code.
"""
