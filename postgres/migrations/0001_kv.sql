-- The buckets of ordered keys of package kv. A row is a key of the bucket
-- whose path is "bucket": the names from the top-level bucket down, each
-- preceded by its length as a uvarint, so a path is never ambiguous and
-- the paths of everything below a bucket start with its own. A row whose
-- value is NULL marks a nested bucket and keeps its sequence; top-level
-- buckets are marked in the empty path. bytea compares bytewise, the order
-- of kv's cursors.
CREATE TABLE docket_kv (
    bucket bytea NOT NULL,
    key    bytea NOT NULL,
    value  bytea,
    seq    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, key)
);
