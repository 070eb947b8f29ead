-- Idempotency keys (keyed hashes) with the arguments' hash and the first result, sealed with a key derived from
-- the caller's idempotency key, so only a caller holding it can read the result back.
ALTER TABLE sends ADD COLUMN idempotency_key TEXT;
ALTER TABLE sends ADD COLUMN arguments_hash TEXT;
ALTER TABLE sends ADD COLUMN sealed_result BLOB;
CREATE UNIQUE INDEX sends_by_idempotency_key ON sends (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
