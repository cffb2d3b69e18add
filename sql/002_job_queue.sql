-- adsmith schema, version 2: dead letters and revival for the image job queue.

ALTER TABLE generated_images ADD COLUMN dead_lettered_at timestamptz;
ALTER TABLE generated_images ADD COLUMN started_at timestamptz;
COMMENT ON COLUMN generated_images.dead_lettered_at IS 'When the job failed for good (attempts used up, or an error that can never succeed); NULL otherwise.';
COMMENT ON COLUMN generated_images.started_at IS 'When a generator first claimed the job (claimed_at is the latest claim).';
COMMENT ON COLUMN generated_images.attempts IS 'Attempts counted against max_attempts: claims that ended in a result, a failure or an expired lease (a release at shutdown or a throttled call is not counted).';

CREATE VIEW dead_letter AS
    SELECT request_id, user_id, prompt, style, aspect_ratio, attempts, error,
           created_at, started_at, claimed_at, dead_lettered_at
    FROM generated_images
    WHERE status = 'failed';
COMMENT ON VIEW dead_letter IS 'Failed image jobs with their last error; adsmithctl jobs retry ID or jobs retry --all-dead puts them back.';
COMMENT ON COLUMN dead_letter.request_id IS 'The job.';
COMMENT ON COLUMN dead_letter.user_id IS 'Owner of the job.';
COMMENT ON COLUMN dead_letter.prompt IS 'Text prompt.';
COMMENT ON COLUMN dead_letter.style IS 'Style asked for.';
COMMENT ON COLUMN dead_letter.aspect_ratio IS 'Aspect ratio asked for.';
COMMENT ON COLUMN dead_letter.attempts IS 'Attempts made before it failed.';
COMMENT ON COLUMN dead_letter.error IS 'Why the last attempt failed.';
COMMENT ON COLUMN dead_letter.created_at IS 'When the job was queued.';
COMMENT ON COLUMN dead_letter.started_at IS 'First claim.';
COMMENT ON COLUMN dead_letter.claimed_at IS 'Last claim.';
COMMENT ON COLUMN dead_letter.dead_lettered_at IS 'When it failed for good.';

-- A failed job put back to pending (adsmithctl jobs retry) wakes the
-- generators like a new one.
CREATE TRIGGER generated_images_notify_requeue AFTER UPDATE OF status ON generated_images
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status = 'pending')
    EXECUTE FUNCTION adsmith_notify_job();
COMMENT ON TRIGGER generated_images_notify_requeue ON generated_images IS 'Wakes adsmith-generator when a failed job is put back.';
