"""Vigil's schema migrations (Alembic). Start-up and `python -m bot db upgrade` apply them
through bot/migrations/runner.py; no alembic.ini is needed at run time.

To change the schema:
1. Change bot/models.py.
2. Write the revision beside the others, numbered after the newest (0003 follows 0002), from the
   repository's root, against a database at the current head:
       DATABASE_URL=sqlite:///data/autogen.db python -m bot db upgrade
       DATABASE_URL=sqlite:///data/autogen.db alembic revision --autogenerate --rev-id 0004 -m "what changes"
   Read what it wrote (and `ruff format` it): autogenerate misses renames (it sees a drop and an add), server
   defaults and the `where` of a partial index. A column added to a table with rows needs a
   `server_default` or `nullable=True`. Spell types in plain SQLAlchemy (`sa.String()`,
   `sa.DateTime()`), never import bot.models: a revision must keep working as models change.
   On SQLite, alterations go through `with op.batch_alter_table("task") as batch:`.
3. tests/test_migrations.py then checks that migrating an empty database builds exactly what
   the models declare, on SQLite and PostgreSQL; a database at the old revision is refused at
   start-up until `python -m bot db upgrade` runs.
"""

import logging

# Alembic narrates at INFO (its plugins as it is imported, the dialect on every run); Vigil logs
# the one line that matters, what changed, and a refused start prints only its one line. Set
# here, before runner.py imports Alembic.
logging.getLogger("alembic").setLevel(logging.WARNING)
