"""The auditor's screens over the access log (reporting_portal.audit is the library)."""
