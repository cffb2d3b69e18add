-- adsmith schema, version 1: keys, uploads, products and the image job queue.

CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    user_id      text NOT NULL CHECK (user_id ~ '^[A-Za-z0-9_.@-]{1,128}$'),
    key_prefix   text NOT NULL,
    key_hash     text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
COMMENT ON TABLE api_keys IS 'API keys. Only a SHA-256 hash of each key is kept; the key is shown once at creation.';
COMMENT ON COLUMN api_keys.id IS 'Key number, used by adsmithctl apikey revoke.';
COMMENT ON COLUMN api_keys.user_id IS 'Owner: every request made with the key acts as this user.';
COMMENT ON COLUMN api_keys.key_prefix IS 'First characters of the key, to recognise it in listings.';
COMMENT ON COLUMN api_keys.key_hash IS 'Hex SHA-256 of the whole key.';
COMMENT ON COLUMN api_keys.created_at IS 'When the key was created.';
COMMENT ON COLUMN api_keys.revoked_at IS 'When the key was revoked; NULL while valid.';

CREATE TABLE uploads (
    upload_id     uuid PRIMARY KEY,
    user_id       text NOT NULL,
    bucket        text NOT NULL,
    s3_key        text NOT NULL UNIQUE,
    file_name     text NOT NULL,
    content_type  text NOT NULL,
    declared_size bigint,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_user_idx ON uploads (user_id, created_at);
COMMENT ON TABLE uploads IS 'Upload slots handed out by POST /api/upload/presigned-url. The bytes live in object storage under s3_key.';
COMMENT ON COLUMN uploads.upload_id IS 'Id the client polls with GET /api/upload/status/{upload_id}.';
COMMENT ON COLUMN uploads.user_id IS 'Owner of the upload; other users never see it.';
COMMENT ON COLUMN uploads.bucket IS 'Uploads bucket the object goes to.';
COMMENT ON COLUMN uploads.s3_key IS 'Object key, uploads/{user}/{YYYYMMDD_HHMMSS}_{upload_id}.{ext}.';
COMMENT ON COLUMN uploads.file_name IS 'File name the client gave (informational only; never used in paths).';
COMMENT ON COLUMN uploads.content_type IS 'Content type the presigned URL requires.';
COMMENT ON COLUMN uploads.declared_size IS 'Size the client announced, if any.';
COMMENT ON COLUMN uploads.created_at IS 'When the upload URL was issued.';

CREATE TABLE products (
    product_id      uuid PRIMARY KEY,
    user_id         text NOT NULL,
    correlation_id  uuid NOT NULL,
    name            text NOT NULL,
    description     text NOT NULL,
    category        text NOT NULL,
    product_info    jsonb NOT NULL,
    s3_bucket       text NOT NULL,
    s3_key          text NOT NULL,
    target_markets  jsonb NOT NULL,
    campaign_objectives jsonb NOT NULL,
    image_analysis  jsonb,
    youtube_data    jsonb,
    cultural_data   jsonb,
    campaign        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_user_idx ON products (user_id, created_at);
COMMENT ON TABLE products IS 'One row per campaign request: the brief, what each stage found, and the campaign.';
COMMENT ON COLUMN products.product_id IS 'Id returned to the client as product_id.';
COMMENT ON COLUMN products.user_id IS 'Owner of the product.';
COMMENT ON COLUMN products.correlation_id IS 'Id of the request, also in the logs and the response.';
COMMENT ON COLUMN products.name IS 'Product name from the brief.';
COMMENT ON COLUMN products.description IS 'Product description from the brief.';
COMMENT ON COLUMN products.category IS 'Product category from the brief.';
COMMENT ON COLUMN products.product_info IS 'The whole product_info object as sent.';
COMMENT ON COLUMN products.s3_bucket IS 'Bucket of the product photo.';
COMMENT ON COLUMN products.s3_key IS 'Object key of the product photo.';
COMMENT ON COLUMN products.target_markets IS 'target_markets as sent.';
COMMENT ON COLUMN products.campaign_objectives IS 'campaign_objectives as sent.';
COMMENT ON COLUMN products.image_analysis IS 'Vision stage result: provider, labels, colours, timing.';
COMMENT ON COLUMN products.youtube_data IS 'Video trends stage result: provider, videos (empty when disabled), timing.';
COMMENT ON COLUMN products.cultural_data IS 'Cultural insight per market, with the knowledge-base profile used.';
COMMENT ON COLUMN products.campaign IS 'correlation_id, generation_method, generated_at, campaign_data, usage, cost_usd, warnings.';
COMMENT ON COLUMN products.created_at IS 'When the campaign was generated.';

CREATE TABLE generated_images (
    request_id    text PRIMARY KEY CHECK (request_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    user_id       text NOT NULL,
    prompt        text NOT NULL,
    style         text NOT NULL CHECK (style IN ('natural', 'vivid', 'anime', 'photographic')),
    aspect_ratio  text NOT NULL CHECK (aspect_ratio IN ('1:1', '16:9', '9:16', '4:3', '3:4')),
    body_hash     text NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    error         text,
    s3_key        text,
    s3_url        text,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    run_after     timestamptz NOT NULL DEFAULT clock_timestamp(),
    claimed_at    timestamptz,
    locked_until  timestamptz,
    locked_by     text,
    generated_at  timestamptz
);
CREATE INDEX generated_images_user_idx ON generated_images (user_id, created_at);
CREATE INDEX generated_images_pending_idx ON generated_images (run_after) WHERE status = 'pending';
COMMENT ON TABLE generated_images IS 'Image generation jobs and their results; the rows are the queue adsmith-generator works.';
COMMENT ON COLUMN generated_images.request_id IS 'Client-chosen or generated id; the same id with the same body is the same job.';
COMMENT ON COLUMN generated_images.user_id IS 'Owner of the job.';
COMMENT ON COLUMN generated_images.prompt IS 'Text prompt, 10-1000 characters.';
COMMENT ON COLUMN generated_images.style IS 'natural, vivid, anime or photographic.';
COMMENT ON COLUMN generated_images.aspect_ratio IS '1:1, 16:9, 9:16, 4:3 or 3:4; sets the pixel size.';
COMMENT ON COLUMN generated_images.body_hash IS 'Hash of (prompt, style, aspect_ratio): a repeated request_id must carry the same body.';
COMMENT ON COLUMN generated_images.status IS 'pending until a generator finishes it, then completed or failed (once).';
COMMENT ON COLUMN generated_images.attempts IS 'How many times a generator has claimed the job.';
COMMENT ON COLUMN generated_images.error IS 'Last error, for failed jobs and retried attempts.';
COMMENT ON COLUMN generated_images.s3_key IS 'Key of the generated PNG in the assets bucket.';
COMMENT ON COLUMN generated_images.s3_url IS 'Public URL of the generated PNG.';
COMMENT ON COLUMN generated_images.created_at IS 'When the job was queued.';
COMMENT ON COLUMN generated_images.run_after IS 'The job is not claimed before this time (retry backoff).';
COMMENT ON COLUMN generated_images.claimed_at IS 'When a generator last claimed the job.';
COMMENT ON COLUMN generated_images.locked_until IS 'Lease end: after it another generator may take the job.';
COMMENT ON COLUMN generated_images.locked_by IS 'Generator (host:pid) holding the lease.';
COMMENT ON COLUMN generated_images.generated_at IS 'When the image was stored and the job completed.';

CREATE FUNCTION adsmith_notify_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('adsmith_jobs', NEW.request_id);
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION adsmith_notify_job() IS 'Wakes adsmith-generator (LISTEN adsmith_jobs) when a job is queued.';

CREATE TRIGGER generated_images_notify AFTER INSERT ON generated_images
    FOR EACH ROW EXECUTE FUNCTION adsmith_notify_job();
