-- Campaign jobs announce their outcome the way image jobs do: a campaign
-- that reaches completed or failed with a callback_url queues a webhook
-- delivery, whose body adsmith builds from GET /api/campaigns/{product_id}.
CREATE TRIGGER campaign_jobs_webhook AFTER UPDATE OF status ON campaign_jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('completed', 'failed')
                       AND NEW.callback_url IS NOT NULL)
    EXECUTE FUNCTION adsmith_webhook_on_status('campaign', 'product_id');
COMMENT ON TRIGGER campaign_jobs_webhook ON campaign_jobs IS 'Queues the webhook of a campaign that completed or failed.';
