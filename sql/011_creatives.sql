-- Product creatives: an image job can start from the caller's own upload
-- (a task other than text generation), follow a palette, carry a text
-- overlay set by adsmith, and be one of a set of platform sizes asked for
-- in one request. Rows queued before this migration, and requests that use
-- none of these fields, keep every new column NULL (task text_image).

ALTER TABLE generated_images ADD COLUMN task text NOT NULL DEFAULT 'text_image'
    CHECK (task IN ('text_image', 'background_replace', 'background_remove', 'variation', 'color_guided'));
ALTER TABLE generated_images ADD COLUMN source_bucket text;
ALTER TABLE generated_images ADD COLUMN source_key text;
ALTER TABLE generated_images ADD COLUMN colors jsonb;
ALTER TABLE generated_images ADD COLUMN overlay jsonb;
ALTER TABLE generated_images ADD COLUMN size_name text;
ALTER TABLE generated_images ADD COLUMN width integer CHECK (width BETWEEN 1 AND 4096);
ALTER TABLE generated_images ADD COLUMN height integer CHECK (height BETWEEN 1 AND 4096);
ALTER TABLE generated_images ADD COLUMN set_id text;
ALTER TABLE generated_images ADD CONSTRAINT generated_images_source_check
    CHECK ((source_bucket IS NULL) = (source_key IS NULL) AND (task = 'text_image' OR source_key IS NOT NULL));
-- A set's rows are named request_id.size (the client's id names the set).
ALTER TABLE generated_images DROP CONSTRAINT generated_images_request_id_check;
ALTER TABLE generated_images ADD CONSTRAINT generated_images_request_id_check
    CHECK (request_id ~ '^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_]{1,32})?$');
CREATE INDEX generated_images_set_idx ON generated_images (set_id) WHERE set_id IS NOT NULL;

COMMENT ON COLUMN generated_images.task IS 'What the job makes: text_image (from the prompt alone), background_replace, background_remove, variation or color_guided (from the source photo).';
COMMENT ON COLUMN generated_images.source_bucket IS 'Bucket of the source photo (the caller''s own upload); NULL for text_image without a source.';
COMMENT ON COLUMN generated_images.source_key IS 'Object key of the source photo, checked at queue time to be an upload of the job''s user.';
COMMENT ON COLUMN generated_images.colors IS 'Palette as a JSON array of "#RRGGBB" (at most 10): the request''s, else the dominant colours of the source''s stored analysis; NULL when none.';
COMMENT ON COLUMN generated_images.overlay IS 'Text set on the image by adsmith: {"headline","cta","position"}; NULL for none.';
COMMENT ON COLUMN generated_images.size_name IS 'The platform size or aspect ratio the job makes (instagram_square, story, 16:9, ...); NULL for rows queued without the sizes field before creatives existed.';
COMMENT ON COLUMN generated_images.width IS 'Exact output width in pixels; NULL: the aspect ratio''s size.';
COMMENT ON COLUMN generated_images.height IS 'Exact output height in pixels; NULL: the aspect ratio''s size.';
COMMENT ON COLUMN generated_images.set_id IS 'The client''s request_id naming every row of one creatives request (GET /api/assets/{set_id} answers them as outputs); NULL for requests without creatives fields.';
