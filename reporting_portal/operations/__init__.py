"""What an operator runs from the command line or a timer: backups and restores, the
consistency check and its repair, key rotation. Below both zones, like the domain: no
request, no page, the same on one host or several."""
