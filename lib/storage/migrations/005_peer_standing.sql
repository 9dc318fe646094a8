-- 005_peer_standing: the owner's memory of its peers' conduct as holders
-- of its shards (lib/replication/standing.ts), so that a restart keeps a
-- liar banned, a refusal backed off, a proof counted and acknowledged but
-- unproven bytes out of the peer's balance. Times are ms since the Unix
-- epoch, sizes and credits bytes.

-- A refusal back-off per peer: `strikes` refusals in a row, the smallest
-- shard refused, and our credit with the peer at the last refusal.
CREATE TABLE standing_refusals (
    peer_id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    strikes INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    credit_bytes INTEGER NOT NULL
) WITHOUT ROWID;

-- A peer caught acknowledging shards it did not keep, banned until until_ms.
CREATE TABLE standing_liars (
    peer_id TEXT PRIMARY KEY NOT NULL,
    lies INTEGER NOT NULL,
    until_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Peers that proved every shard asked in a check (and never lied since).
CREATE TABLE standing_proven (
    peer_id TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;

-- Shards a peer acknowledged that no check has proven yet; shard_key is
-- "tessera_id/index".
CREATE TABLE standing_pending (
    peer_id TEXT NOT NULL,
    shard_key TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    PRIMARY KEY (peer_id, shard_key)
) WITHOUT ROWID;
