"""Pure domain rules: no Flask, no Peewee; time comes in as an argument (STYLE 2)."""
