"""Integration plugins: web-form intake, mailbox parsing, patient-system sync.

`hookspecs.py` says what a plugin can do; `plugins.py` finds plugins by entry point. The raw-request
store they share is `webapp.models.InboundRequest`.
"""
