-- Checkpoints per shard. The inventory stream's subjects carry a shard token
-- (`<prefix>.inventory.<shard>.<event id>`, 16 shards), and each projector partition consumes only
-- its shards: shard `s` at `n` means every commit of shard `s` up to stream sequence `n` is
-- applied. Catalog and orders keep one row, shard 0. The inventory row becomes shard 0 and the
-- other fifteen start where it was, so an upgrade skips nothing it had applied.
-- Names are unqualified, as in 0001: `projector rebuild` replays every file with another
-- search_path.

ALTER TABLE projection_checkpoints ADD COLUMN shard integer NOT NULL DEFAULT 0;
ALTER TABLE projection_checkpoints DROP CONSTRAINT projection_checkpoints_pkey;
ALTER TABLE projection_checkpoints ADD PRIMARY KEY (projection, shard);

INSERT INTO projection_checkpoints (projection, stream, shard, last_sequence)
SELECT c.projection, c.stream, s.shard, c.last_sequence
FROM projection_checkpoints c, generate_series(1, 15) AS s(shard)
WHERE c.projection = 'inventory' AND c.shard = 0
ON CONFLICT (projection, shard) DO NOTHING;
