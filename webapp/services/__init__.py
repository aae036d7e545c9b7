"""Use cases that touch the database; every entry point (staff form, API, intake, sync) calls these."""
