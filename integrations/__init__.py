"""Integration plugins: web-form intake, mailbox parsing, patient-system sync.

The hook specification and plugin manager arrive with the intake issue; built-in plugins will use
exactly the hooks an outside plugin uses (STYLE: Datasette).
"""
