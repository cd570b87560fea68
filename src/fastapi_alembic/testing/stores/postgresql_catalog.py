"""The PostgreSQL catalog queries behind recycling a template copy: the schema's full
fingerprint, and the quick check that tells an unchanged catalog without computing it."""

from __future__ import annotations

#: Schemas the application owns (not the system's, not another session's temporary ones).
USER_SCHEMA = (
    "{n}.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND {n}.nspname NOT LIKE 'pg\\_toast%' AND {n}.nspname NOT LIKE 'pg\\_temp\\_%'"
)

#: OIDs from here on belong to objects made after initdb: the application's (and, with the
#: sessions ended first, no one else's: temporary tables go with their session).
_FIRST_USER_OID = 16384

#: One query over the catalog: every definition a test could change with DDL, hashed. It
#: reads the catalog's own columns (OIDs, stored expression trees) rather than rendering
#: definitions with pg_get_*def, which on the new connection of every reset costs twice as
#: much (caches to fill). Every copy of a template has the same OIDs, so equal catalogs give
#: equal fingerprints; an object dropped and made again gets a new OID, and its copy is
#: dropped rather than recycled: the safe side. ROW(...)::text keeps every field's place,
#: NULLs included.
FINGERPRINT_SQL = f"""
SELECT md5(ROW(
  (SELECT string_agg(ROW(oid, nspname, nspowner, nspacl)::text, ',' ORDER BY oid)
   FROM pg_namespace WHERE {USER_SCHEMA.format(n="pg_namespace")}),
  (SELECT string_agg(ROW(oid, relname, relnamespace, relkind, relpersistence,
          relowner, relacl, reloptions, relrowsecurity, relforcerowsecurity, reloftype,
          reltype, relispartition, relpartbound)::text, ',' ORDER BY oid)
   FROM pg_class WHERE oid >= {_FIRST_USER_OID}),
  (SELECT string_agg(ROW(attrelid, attnum, attname, atttypid, atttypmod,
          attnotnull, attisdropped, attidentity, attgenerated, attcollation, attacl,
          attndims, attoptions)::text, ',' ORDER BY attrelid, attnum)
   FROM pg_attribute WHERE attrelid >= {_FIRST_USER_OID} AND attnum > 0),
  (SELECT string_agg(ROW(oid, adrelid, adnum, adbin)::text, ',' ORDER BY oid)
   FROM pg_attrdef),
  (SELECT string_agg(ROW(oid, conname, connamespace, contype, condeferrable,
          condeferred, convalidated, conrelid, contypid, conindid, confrelid, confupdtype,
          confdeltype, confmatchtype, conkey, confkey, conbin, connoinherit)::text, ',' ORDER BY oid)
   FROM pg_constraint WHERE oid >= {_FIRST_USER_OID}),
  (SELECT string_agg(ROW(indexrelid, indrelid, indisunique, indisprimary,
          indisexclusion, indimmediate, indisvalid, indkey, indcollation, indclass, indoption,
          indexprs, indpred)::text, ',' ORDER BY indexrelid)
   FROM pg_index WHERE indexrelid >= {_FIRST_USER_OID}),
  (SELECT string_agg(ROW(seqrelid, seqtypid, seqstart, seqincrement, seqmax,
          seqmin, seqcache, seqcycle)::text, ',' ORDER BY seqrelid)
   FROM pg_sequence),
  (SELECT string_agg(ROW(oid, typname, typnamespace, typowner, typtype,
          typbasetype, typtypmod, typnotnull, typdefaultbin, typacl)::text, ',' ORDER BY oid)
   FROM pg_type WHERE oid >= {_FIRST_USER_OID}),
  (SELECT string_agg(ROW(oid, enumtypid, enumsortorder, enumlabel)::text, ',' ORDER BY oid)
   FROM pg_enum),
  (SELECT string_agg(ROW(oid, tgrelid, tgname, tgfoid, tgtype, tgenabled,
          tgisinternal, tgattr, tgargs, tgqual)::text, ',' ORDER BY oid)
   FROM pg_trigger WHERE oid >= {_FIRST_USER_OID}),
  (SELECT string_agg(ROW(oid, ev_class, rulename, ev_type, ev_enabled, is_instead,
          ev_qual, ev_action)::text, ',' ORDER BY oid)
   FROM pg_rewrite WHERE oid >= {_FIRST_USER_OID}),
  (SELECT string_agg(ROW(oid, proname, pronamespace, proowner, prokind,
          prosecdef, provolatile, proretset, prorettype, proargtypes, proconfig, proacl,
          md5(prosrc))::text, ',' ORDER BY oid)
   FROM pg_proc WHERE oid >= {_FIRST_USER_OID}),
  (SELECT string_agg(ROW(oid, polrelid, polname, polcmd, polpermissive, polroles,
          polqual, polwithcheck)::text, ',' ORDER BY oid)
   FROM pg_policy),
  (SELECT string_agg(ROW(oid, extname, extversion)::text, ',' ORDER BY oid)
   FROM pg_extension),
  (SELECT string_agg(ROW(classoid, objoid, objsubid, md5(description))::text, ','
          ORDER BY classoid, objoid, objsubid)
   FROM pg_description WHERE objoid >= {_FIRST_USER_OID}),
  (SELECT string_agg(ROW(setrole, setconfig)::text, ',' ORDER BY setrole)
   FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())),
  (SELECT count(*) FROM pg_largeobject_metadata)
)::text)
"""

#: The catalogs FINGERPRINT_SQL reads, each with the rows of it that it reads.
_CATALOGS = [
    ("pg_namespace", USER_SCHEMA.format(n="pg_namespace")),
    ("pg_class", f"oid >= {_FIRST_USER_OID}"),
    ("pg_attribute", f"attrelid >= {_FIRST_USER_OID} AND attnum > 0"),
    ("pg_attrdef", "true"),
    ("pg_constraint", f"oid >= {_FIRST_USER_OID}"),
    ("pg_index", f"indexrelid >= {_FIRST_USER_OID}"),
    ("pg_sequence", "true"),
    ("pg_type", f"oid >= {_FIRST_USER_OID}"),
    ("pg_enum", "true"),
    ("pg_trigger", f"oid >= {_FIRST_USER_OID}"),
    ("pg_rewrite", f"oid >= {_FIRST_USER_OID}"),
    ("pg_proc", f"oid >= {_FIRST_USER_OID}"),
    ("pg_policy", "true"),
    ("pg_extension", "true"),
    ("pg_description", f"objoid >= {_FIRST_USER_OID}"),
    (
        "pg_db_role_setting",
        "setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())",
    ),
    ("pg_largeobject_metadata", "true"),
]

#: The quick check that a copy's schema is the fresh copy's: every DDL statement inserts
#: catalog rows or deletes them, and an update is a new row version too. So when each catalog
#: has as many of these rows as in the fresh copy and none was written by a transaction that
#: began after the fresh copy was read (``age(xmin)`` against the reference id: no wraparound
#: trouble), the catalog is the fresh copy's. It counts and compares ids instead of rendering
#: and hashing every row; when it cannot tell (a TRUNCATE rewrote a pg_class row, say), the
#: full fingerprint decides.
QUICK_CHECK_SQL = "SELECT concat_ws(',', {counts}), coalesce({newer}, false)".format(
    counts=", ".join(f"(SELECT count(*) FROM {c} WHERE {w})" for c, w in _CATALOGS),
    newer=" OR ".join(
        f"(SELECT bool_or(age(xmin) <= age(CAST(CAST(:since AS text) AS xid))) FROM {c} WHERE {w})"
        for c, w in _CATALOGS
    ),
)
