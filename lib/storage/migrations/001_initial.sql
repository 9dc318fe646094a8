-- 001_initial: node-level facts that outlive any one table.
-- The migration runner creates `schema_migrations` itself (it must exist
-- before this file can be recorded), so this file only adds `node_meta`.
CREATE TABLE node_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL -- unix seconds
);
