-- 0002: the start time of a run's owner process, so a reused pid is not taken for the owner.
-- NULL for runs recorded before this migration (their owner is judged by its pid alone).

ALTER TABLE runs ADD COLUMN owner_start TEXT;
