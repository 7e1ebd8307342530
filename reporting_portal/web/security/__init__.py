"""Security baseline: response headers, cookies and per-route access rules."""
