-- adsmith schema, version 9: data lifecycle (adsmithctl prune, user export
-- and delete) and queueing an image job from SQL.
--
-- Deleting a row that names an object (an upload, a generated image) queues
-- the object's deletion in object_deletions in the same transaction, by
-- trigger: whoever deletes the row (prune, user delete, an operator's own
-- DELETE), no row is left pointing at a deleted object, and no object is
-- forgotten when the deleting program stops half way. adsmithctl prune and
-- user delete then delete the objects and the queue rows.

CREATE TABLE object_deletions (
    id         bigserial PRIMARY KEY,
    bucket     text,
    s3_key     text NOT NULL,
    source     text NOT NULL CHECK (source IN ('upload', 'image')),
    queued_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE object_deletions IS 'Objects whose row was deleted and that are still to be deleted from storage; adsmithctl prune and user delete work it off.';
COMMENT ON COLUMN object_deletions.id IS 'Order of queueing.';
COMMENT ON COLUMN object_deletions.bucket IS 'Bucket of the object; NULL for generated images: the configured assets_bucket.';
COMMENT ON COLUMN object_deletions.s3_key IS 'Object key.';
COMMENT ON COLUMN object_deletions.source IS 'Table the row came from: upload (uploads) or image (generated_images).';
COMMENT ON COLUMN object_deletions.queued_at IS 'When the row was deleted.';

CREATE FUNCTION adsmith_queue_object_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'uploads' THEN
        INSERT INTO object_deletions (bucket, s3_key, source) VALUES (OLD.bucket, OLD.s3_key, 'upload');
    ELSIF OLD.s3_key IS NOT NULL THEN
        INSERT INTO object_deletions (bucket, s3_key, source) VALUES (NULL, OLD.s3_key, 'image');
    END IF;
    RETURN OLD;
END;
$$;
COMMENT ON FUNCTION adsmith_queue_object_deletion() IS 'Queues the object of a deleted uploads or generated_images row in object_deletions.';

CREATE TRIGGER uploads_object_deletion AFTER DELETE ON uploads
    FOR EACH ROW EXECUTE FUNCTION adsmith_queue_object_deletion();
COMMENT ON TRIGGER uploads_object_deletion ON uploads IS 'A deleted upload slot queues its object for deletion.';
CREATE TRIGGER generated_images_object_deletion AFTER DELETE ON generated_images
    FOR EACH ROW WHEN (OLD.s3_key IS NOT NULL)
    EXECUTE FUNCTION adsmith_queue_object_deletion();
COMMENT ON TRIGGER generated_images_object_deletion ON generated_images IS 'A deleted image job queues its generated image for deletion.';

-- What prune asks: is an upload used by a product or a campaign job, and
-- which finished rows are old.
CREATE INDEX products_object_idx ON products (s3_bucket, s3_key);
COMMENT ON INDEX products_object_idx IS 'Products by photo: an upload a product uses is never pruned as unused.';
CREATE INDEX campaign_jobs_object_idx ON campaign_jobs (s3_bucket, s3_key);
COMMENT ON INDEX campaign_jobs_object_idx IS 'Campaign jobs by photo: an upload a job uses is never pruned as unused.';
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at) WHERE state <> 'pending';
COMMENT ON INDEX webhook_deliveries_finished_idx IS 'Attempts made, oldest first, for prune.';
CREATE INDEX webhook_deliveries_user_idx ON webhook_deliveries (user_id);
COMMENT ON INDEX webhook_deliveries_user_idx IS 'A user''s webhook attempts, for user delete.';

-- Queueing an image job from SQL, exactly as POST /api/assets does: the
-- same limits, styles and aspect ratios, the same body hash (SHA-256 of
-- prompt, style and aspect_ratio joined by U+001F, lower-case hex; the API
-- adds the request's callback_url only when the request names one, and this
-- function names none), the same idempotency by request_id. The INSERT
-- wakes the generators (trigger generated_images_notify) when the
-- transaction commits.
CREATE FUNCTION adsmith_enqueue_image(user_id text, prompt text, style text, aspect_ratio text,
                                      request_id text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    s     text := coalesce(style, 'natural');
    ar    text := coalesce(aspect_ratio, '1:1');
    rid   text := coalesce(request_id, gen_random_uuid()::text);
    hash  text;
    owner text;
    prior text;
BEGIN
    IF user_id IS NULL OR user_id !~ '^[A-Za-z0-9_.@-]{1,128}$' THEN
        RAISE EXCEPTION 'user_id must be 1-128 of [A-Za-z0-9_.@-]' USING ERRCODE = '22023';
    END IF;
    IF prompt IS NULL OR prompt = '' THEN
        RAISE EXCEPTION 'Prompt is required' USING ERRCODE = '22023';
    END IF;
    IF char_length(prompt) < 10 OR char_length(prompt) > 1000 THEN
        RAISE EXCEPTION 'prompt must be between 10 and 1000 characters' USING ERRCODE = '22023';
    END IF;
    IF s NOT IN ('natural', 'vivid', 'anime', 'photographic') THEN
        RAISE EXCEPTION 'style must be one of natural, vivid, anime, photographic' USING ERRCODE = '22023';
    END IF;
    IF ar NOT IN ('1:1', '16:9', '9:16', '4:3', '3:4') THEN
        RAISE EXCEPTION 'aspect_ratio must be one of 1:1, 16:9, 9:16, 4:3, 3:4' USING ERRCODE = '22023';
    END IF;
    IF rid !~ '^[A-Za-z0-9_-]{1,64}$' THEN
        RAISE EXCEPTION 'request_id must be 1-64 of [A-Za-z0-9_-]' USING ERRCODE = '22023';
    END IF;
    hash := encode(sha256(convert_to(prompt || chr(31) || s || chr(31) || ar, 'UTF8')), 'hex');
    INSERT INTO generated_images AS g (request_id, user_id, prompt, style, aspect_ratio, body_hash)
        VALUES (rid, adsmith_enqueue_image.user_id, prompt, s, ar, hash)
        ON CONFLICT ON CONSTRAINT generated_images_pkey DO NOTHING;
    IF FOUND THEN
        RETURN rid;
    END IF;
    SELECT g.user_id, g.body_hash INTO owner, prior FROM generated_images g WHERE g.request_id = rid;
    IF owner = adsmith_enqueue_image.user_id AND prior = hash THEN
        RETURN rid;
    END IF;
    RAISE EXCEPTION 'request_id is already used by another request'
        USING ERRCODE = '23505', DETAIL = 'request_id ' || rid;
END;
$$;
COMMENT ON FUNCTION adsmith_enqueue_image(text, text, text, text, text) IS
    'Queues an image job as POST /api/assets does (same validation, body hash and idempotency) and returns its request_id; bad input raises SQLSTATE 22023, a request_id already used for another body or user raises 23505. style and aspect_ratio default to natural and 1:1 when NULL; request_id is generated when NULL.';
