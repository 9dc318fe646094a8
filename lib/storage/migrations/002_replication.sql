-- 002_replication: what this node holds for others, what it placed on
-- others, and the bilateral reciprocity ledger. Times are unix
-- milliseconds (the Clock port's unit).

-- Shards held on this node's disk: the files are
-- {fragments_root}/{tessera_id}/{shard_index:03}.shard; a row exists only
-- after its file has been written, fsynced and renamed into place.
CREATE TABLE fragments (
    tessera_id TEXT NOT NULL CHECK (length(tessera_id) = 64),
    shard_index INTEGER NOT NULL CHECK (shard_index >= 0),
    shard_count INTEGER NOT NULL CHECK (shard_count > shard_index),
    checksum TEXT NOT NULL CHECK (length(checksum) = 64),
    size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
    stored_at INTEGER NOT NULL,
    PRIMARY KEY (tessera_id, shard_index)
) WITHOUT ROWID;

-- Fragment plans of tesseras this node owns and keeps alive.
CREATE TABLE fragment_plans (
    tessera_id TEXT PRIMARY KEY NOT NULL CHECK (length(tessera_id) = 64),
    size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
    tier TEXT NOT NULL CHECK (tier IN ('small', 'medium', 'large')),
    data_shards INTEGER NOT NULL CHECK (data_shards >= 1),
    parity_shards INTEGER NOT NULL CHECK (parity_shards >= 0),
    shard_size INTEGER NOT NULL CHECK (shard_size >= 0),
    created_at INTEGER NOT NULL,
    last_checked_at INTEGER,
    last_health TEXT
);

-- The checksum of every shard of a planned tessera.
CREATE TABLE plan_shards (
    tessera_id TEXT NOT NULL
        REFERENCES fragment_plans (tessera_id) ON DELETE CASCADE,
    shard_index INTEGER NOT NULL CHECK (shard_index >= 0),
    checksum TEXT NOT NULL CHECK (length(checksum) = 64),
    PRIMARY KEY (tessera_id, shard_index)
) WITHOUT ROWID;

-- Peers that hold (or held) shards of our tesseras.
CREATE TABLE holders (
    peer_id TEXT PRIMARY KEY NOT NULL,
    first_stored_at INTEGER NOT NULL,
    last_attested_at INTEGER
);

-- Which holder has which shard.
CREATE TABLE holder_fragments (
    tessera_id TEXT NOT NULL,
    shard_index INTEGER NOT NULL,
    peer_id TEXT NOT NULL REFERENCES holders (peer_id) ON DELETE CASCADE,
    stored_at INTEGER NOT NULL,
    last_attested_at INTEGER,
    ip TEXT, -- the holder's IP when placed (subnet diversity), if known
    PRIMARY KEY (tessera_id, shard_index, peer_id),
    FOREIGN KEY (tessera_id, shard_index)
        REFERENCES plan_shards (tessera_id, shard_index) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX idx_holder_fragments_peer ON holder_fragments (peer_id);

-- The reciprocity ledger: one row per peer, counters only ever changed by
-- an UPSERT increment, the balance derived by SQLite itself.
CREATE TABLE reciprocity_balances (
    peer_id TEXT PRIMARY KEY NOT NULL,
    bytes_stored_for_them INTEGER NOT NULL DEFAULT 0,
    bytes_they_store_for_us INTEGER NOT NULL DEFAULT 0,
    balance INTEGER GENERATED ALWAYS AS
        (bytes_they_store_for_us - bytes_stored_for_them) STORED,
    institutional INTEGER NOT NULL DEFAULT 0 CHECK (institutional IN (0, 1)),
    updated_at INTEGER NOT NULL
);
CREATE INDEX idx_reciprocity_balance ON reciprocity_balances (balance);
