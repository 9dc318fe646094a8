-- 006_catalogue: the owner's catalogue of its own tesseras (issue 15/19):
-- the name given with `put --name`, the size the owner put (for a private
-- tessera its plaintext size, not the ciphertext's), when, and for a
-- private tessera its content key sealed with the recovery phrase's
-- catalogue key (lib/crypto/key_wrap.ts: 61 bytes, bound to the tessera
-- id). A public tessera has sealed_key NULL. Times are ms since the epoch.
CREATE TABLE catalogue (
    tessera_id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    size_bytes INTEGER NOT NULL,
    put_at_ms INTEGER NOT NULL,
    sealed_key BLOB
) WITHOUT ROWID;

CREATE INDEX idx_catalogue_put_at ON catalogue (put_at_ms);
