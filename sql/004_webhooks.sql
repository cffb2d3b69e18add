-- adsmith schema, version 4: webhooks. A job that asked for one (callback_url)
-- gets a signed POST of its status JSON when it completes or fails.
--
-- webhook_deliveries is both the delivery queue and its history: one row per
-- attempt. A pending row is an attempt still to make (due at due_at); once
-- made it records the outcome, and a retry is a new row with attempt + 1.

ALTER TABLE generated_images ADD COLUMN callback_url text;
COMMENT ON COLUMN generated_images.callback_url IS 'Where to POST the job''s status JSON when it completes or fails (the request''s callback_url, else the webhook_url config default); NULL: no webhook.';

CREATE TABLE webhook_deliveries (
    id            bigserial PRIMARY KEY,
    job_kind      text NOT NULL CHECK (job_kind ~ '^[a-z_]{1,32}$'),
    job_id        text NOT NULL,
    user_id       text NOT NULL,
    url           text NOT NULL,
    job_status    text NOT NULL,
    attempt       integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    status_code   integer,
    error         text,
    due_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    locked_until  timestamptz,
    attempted_at  timestamptz,
    duration_ms   integer,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (due_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_job_idx ON webhook_deliveries (job_kind, job_id, attempt);
COMMENT ON TABLE webhook_deliveries IS 'Webhook attempts: pending rows are the delivery queue adsmith-generator works, the others the record of each attempt made.';
COMMENT ON COLUMN webhook_deliveries.id IS 'Attempt number in this table.';
COMMENT ON COLUMN webhook_deliveries.job_kind IS 'Which kind of job: image (generated_images) or campaign (campaign_jobs).';
COMMENT ON COLUMN webhook_deliveries.job_id IS 'The job''s id in its table (request_id for images).';
COMMENT ON COLUMN webhook_deliveries.user_id IS 'Owner of the job: the body is what this user would GET.';
COMMENT ON COLUMN webhook_deliveries.url IS 'The callback URL, as given with the job.';
COMMENT ON COLUMN webhook_deliveries.job_status IS 'The job status that triggered the webhook (completed or failed).';
COMMENT ON COLUMN webhook_deliveries.attempt IS 'Attempt number for this webhook, 1 to webhook_max_attempts.';
COMMENT ON COLUMN webhook_deliveries.state IS 'pending until attempted, then delivered (2xx answer) or failed.';
COMMENT ON COLUMN webhook_deliveries.status_code IS 'HTTP status the receiver answered; NULL when there was no answer.';
COMMENT ON COLUMN webhook_deliveries.error IS 'Why the attempt failed (timeout, refused address, HTTP status, ...); NULL when delivered.';
COMMENT ON COLUMN webhook_deliveries.due_at IS 'The attempt is not made before this time (retry backoff).';
COMMENT ON COLUMN webhook_deliveries.locked_until IS 'Claim end: a deliverer is making the attempt; after it another may take it.';
COMMENT ON COLUMN webhook_deliveries.attempted_at IS 'When the attempt started.';
COMMENT ON COLUMN webhook_deliveries.duration_ms IS 'How long the attempt took.';
COMMENT ON COLUMN webhook_deliveries.created_at IS 'When the attempt was scheduled.';

-- One trigger function for every job table with an id column (named by the
-- second argument), user_id, status and callback_url: the first argument
-- is the job kind the deliverer knows how to describe.
CREATE FUNCTION adsmith_webhook_on_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    j jsonb := to_jsonb(NEW);
BEGIN
    INSERT INTO webhook_deliveries (job_kind, job_id, user_id, url, job_status)
        VALUES (TG_ARGV[0], j ->> TG_ARGV[1], j ->> 'user_id', j ->> 'callback_url', j ->> 'status');
    PERFORM pg_notify('adsmith_webhooks', TG_ARGV[0]);
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION adsmith_webhook_on_status() IS 'Queues a webhook delivery for a job that reached completed or failed and has a callback_url; arguments: job kind, name of the id column.';

CREATE TRIGGER generated_images_webhook AFTER UPDATE OF status ON generated_images
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('completed', 'failed')
                       AND NEW.callback_url IS NOT NULL)
    EXECUTE FUNCTION adsmith_webhook_on_status('image', 'request_id');
COMMENT ON TRIGGER generated_images_webhook ON generated_images IS 'Queues the webhook of an image job that completed or failed.';
