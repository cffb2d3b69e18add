-- adsmith schema, version 3: asynchronous campaigns.
--
-- POST /api/campaigns (or Prefer: respond-async on POST /api/campaign/tier-1)
-- queues a validated brief as a row here; adsmith-campaigner claims rows
-- with FOR UPDATE SKIP LOCKED under a lease, runs the campaign and, in one
-- transaction conditional on still holding the lease, writes the products
-- row and marks the job completed.

CREATE TABLE campaign_jobs (
    product_id        uuid PRIMARY KEY,
    user_id           text NOT NULL,
    correlation_id    uuid NOT NULL,
    name              text NOT NULL,
    brief             jsonb NOT NULL,
    s3_bucket         text NOT NULL,
    s3_key            text NOT NULL,
    callback_url      text,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    error             text,
    error_code        text,
    generation_method text,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    run_after         timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at        timestamptz,
    claimed_at        timestamptz,
    locked_until      timestamptz,
    locked_by         text,
    completed_at      timestamptz
);
-- The listing: a user's campaigns newest first, keyset-paginated.
CREATE INDEX campaign_jobs_user_idx ON campaign_jobs (user_id, created_at DESC, product_id DESC);
-- The claim: due pending jobs and running ones whose lease may have expired.
CREATE INDEX campaign_jobs_due_idx ON campaign_jobs (run_after) WHERE status IN ('pending', 'running');

COMMENT ON TABLE campaign_jobs IS 'Asynchronous campaign requests and their state; the rows are the queue adsmith-campaigner works. The result is the products row with the same product_id.';
COMMENT ON COLUMN campaign_jobs.product_id IS 'Id returned to the client; the completed campaign is the products row with this id.';
COMMENT ON COLUMN campaign_jobs.user_id IS 'Owner; other users never see the job.';
COMMENT ON COLUMN campaign_jobs.correlation_id IS 'Id of the request, also in the logs, the answer and the products row.';
COMMENT ON COLUMN campaign_jobs.name IS 'Product name from the brief, for listings.';
COMMENT ON COLUMN campaign_jobs.brief IS 'The validated brief: product_info, target_markets and campaign_objectives as the campaign reads them.';
COMMENT ON COLUMN campaign_jobs.s3_bucket IS 'Bucket of the product photo (the caller''s own upload).';
COMMENT ON COLUMN campaign_jobs.s3_key IS 'Object key of the product photo.';
COMMENT ON COLUMN campaign_jobs.callback_url IS 'Where to announce the outcome (a webhook), if the client asked.';
COMMENT ON COLUMN campaign_jobs.status IS 'pending (queued or put back), running (a campaigner holds the lease), completed or failed (once).';
COMMENT ON COLUMN campaign_jobs.attempts IS 'Claims counted against max_attempts: runs that ended in a result, a failure or an expired lease (a release at shutdown is not counted).';
COMMENT ON COLUMN campaign_jobs.error IS 'Why the last attempt failed (failed jobs and retried attempts).';
COMMENT ON COLUMN campaign_jobs.error_code IS 'Machine code of a failure: invalid_image, not_found, deadline_exceeded, internal_error, lease_expired.';
COMMENT ON COLUMN campaign_jobs.generation_method IS 'The completed campaign''s generation_method.';
COMMENT ON COLUMN campaign_jobs.created_at IS 'When the job was queued; the listing''s order.';
COMMENT ON COLUMN campaign_jobs.run_after IS 'The job is not claimed before this time (retry backoff).';
COMMENT ON COLUMN campaign_jobs.started_at IS 'When a campaigner first claimed the job.';
COMMENT ON COLUMN campaign_jobs.claimed_at IS 'When a campaigner last claimed the job.';
COMMENT ON COLUMN campaign_jobs.locked_until IS 'Lease end: after it another campaigner may take the job and run it again.';
COMMENT ON COLUMN campaign_jobs.locked_by IS 'Campaigner (host:pid) holding or last holding the lease.';
COMMENT ON COLUMN campaign_jobs.completed_at IS 'When the job completed or failed for good.';
COMMENT ON INDEX campaign_jobs_user_idx IS 'A user''s campaigns newest first (GET /api/campaigns).';
COMMENT ON INDEX campaign_jobs_due_idx IS 'Jobs a claim may take.';

CREATE FUNCTION adsmith_notify_campaign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('adsmith_campaigns', NEW.product_id::text);
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION adsmith_notify_campaign() IS 'Wakes adsmith-campaigner (LISTEN adsmith_campaigns) when a campaign is queued or put back.';

CREATE TRIGGER campaign_jobs_notify AFTER INSERT ON campaign_jobs
    FOR EACH ROW EXECUTE FUNCTION adsmith_notify_campaign();
COMMENT ON TRIGGER campaign_jobs_notify ON campaign_jobs IS 'Wakes adsmith-campaigner when a campaign is queued.';
CREATE TRIGGER campaign_jobs_notify_requeue AFTER UPDATE OF status ON campaign_jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status = 'pending')
    EXECUTE FUNCTION adsmith_notify_campaign();
COMMENT ON TRIGGER campaign_jobs_notify_requeue ON campaign_jobs IS 'Wakes adsmith-campaigner when a job is put back (retry, release at shutdown).';
