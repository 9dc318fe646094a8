-- 007_manifests: the owner-signed manifest of every tessera this node owns
-- or holds a shard of (issue 14): its canonical bytes and the owner's
-- signature (lib/core/manifest.ts). Validated before it is kept; the
-- first kept for a tessera stays.
CREATE TABLE manifests (
    tessera_id TEXT PRIMARY KEY NOT NULL,
    manifest BLOB NOT NULL,
    signature BLOB NOT NULL
) WITHOUT ROWID;
