"""docs/data-model.md names every migration and every table and view the migrations create.

The migrations table at its top drifted once (four migrations and their tables missing); this keeps
it complete: a new migration file, table or view fails here until the page lists it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def migrations_table() -> str:
    text = (ROOT / "docs" / "data-model.md").read_text()
    start = text.index("| file |")
    return text[start:text.index("\n## ", start)]


def test_every_migration_file_is_listed():
    listed = set(re.findall(r"^\| `(\d+_\w+\.sql)` \|", migrations_table(), re.MULTILINE))
    present = {path.name for path in (ROOT / "supabase" / "migrations").glob("*.sql")}
    assert present - listed == set(), "migrations missing from docs/data-model.md"
    assert listed - present == set(), "docs/data-model.md lists migrations that do not exist"


def test_every_table_and_view_is_named_by_its_migration_row(sql):
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\d+_\w+\.sql)` \|.*$", migrations_table(), re.MULTILINE)}
    objects = sql("""
        select c.relnamespace::regnamespace::text, c.relname, c.relkind::text
          from pg_class c
         where c.relnamespace in ('public'::regnamespace, 'private'::regnamespace)
           and c.relkind in ('r', 'p', 'v', 'm')
           and not exists (select 1 from pg_depend d
                            where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')""")
    assert len(objects) > 20
    missing = []
    for schema, name, _kind in objects:
        shown = f"`{name}`" if schema == "public" else f"`private.{name}`"
        created_in = [file for file in (ROOT / "supabase" / "migrations").glob("*.sql")
                      if re.search(rf"^create (table|(or replace )?view|materialized view) {schema}\.{name}\b",
                                   file.read_text(), re.MULTILINE)]
        if len(created_in) != 1 or shown not in rows.get(created_in[0].name, ""):
            missing.append(f"{schema}.{name} ({', '.join(f.name for f in created_in) or 'no create statement found'})")
    assert missing == [], "tables/views not named in their migration's row of docs/data-model.md"
