-- Upload slots expire: a slot never uploaded to is pending until its URL
-- expires, counts against the owner's max_pending_uploads, and is deleted by
-- the generator's sweep once expired.

ALTER TABLE uploads ADD COLUMN expires_at timestamptz;
ALTER TABLE uploads ADD COLUMN uploaded_at timestamptz;
-- Slots issued before this migration: the longest lifetime a URL can have.
UPDATE uploads SET expires_at = created_at + interval '7 days';
ALTER TABLE uploads ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX uploads_pending_idx ON uploads (user_id, expires_at) WHERE uploaded_at IS NULL;
CREATE INDEX uploads_unused_idx ON uploads (expires_at) WHERE uploaded_at IS NULL;
COMMENT ON COLUMN uploads.expires_at IS 'When the presigned upload URL stops working; an unused slot is deleted after it.';
COMMENT ON COLUMN uploads.uploaded_at IS 'When the object was first seen in storage (local PUT, status check or sweep); NULL while the slot is unused.';
