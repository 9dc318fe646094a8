-- 004_fragment_sender: who pushed each held shard. With it, a shard's row
-- and its reciprocity credit (bytes_stored_for_them of the sender) are
-- written and removed in one transaction, and the ledger can be checked
-- and rebuilt per peer from what is held.
-- NULL: a row written before this migration (its sender is unknown; it
-- was credited to somebody, or lost its credit in a crash) or a shard
-- stored without a sender. A re-push by a peer claims such a row.
ALTER TABLE fragments ADD COLUMN sender_peer_id TEXT;

CREATE INDEX idx_fragments_sender ON fragments (sender_peer_id);
