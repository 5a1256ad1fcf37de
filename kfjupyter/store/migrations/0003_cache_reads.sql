-- 0003: what a cached step read while it ran (local modules, files, folders) with their sizes,
-- mtimes and hashes, checked before its outputs are reused. NULL for entries recorded before this
-- migration: nobody knows what they read, so they are never reused.

ALTER TABLE cache ADD COLUMN reads TEXT;
