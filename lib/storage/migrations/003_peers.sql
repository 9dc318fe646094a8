-- 003_peers: the bootstrap document's DHT peer table, exactly as there.
-- first_seen and last_seen are unix SECONDS, so that
-- datetime(last_seen, 'unixepoch') works in the sqlite3 shell.
CREATE TABLE dht_peers (
    peer_id TEXT NOT NULL,
    multiaddr TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (peer_id, multiaddr)
);

CREATE INDEX idx_last_seen ON dht_peers (last_seen);
