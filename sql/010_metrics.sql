-- adsmith schema, version 10: metrics of the background processes.
--
-- adsmith-generator and adsmith-campaigner keep their metrics in memory and
-- write a snapshot of them here every metrics_interval seconds and when
-- they stop; adsmith-api's GET /metrics renders the snapshots updated
-- recently beside its own counters, so one scrape shows every process
-- sharing this database however many hosts run them. Rows of processes
-- gone quiet are left out of scrapes and deleted later.

CREATE TABLE process_metrics (
    instance    text PRIMARY KEY CHECK (length(instance) BETWEEN 1 AND 128),
    program     text NOT NULL CHECK (program ~ '^[a-z-]{1,32}$'),
    pid         integer NOT NULL,
    started_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    snapshot    jsonb NOT NULL
);
CREATE INDEX process_metrics_updated_idx ON process_metrics (updated_at);
COMMENT ON TABLE process_metrics IS 'The latest metrics snapshot of each running background process (adsmith-generator, adsmith-campaigner), rendered by GET /metrics.';
COMMENT ON COLUMN process_metrics.instance IS 'The process: host:pid, as it names itself in leases (locked_by); the instance label of its series.';
COMMENT ON COLUMN process_metrics.program IS 'The program: adsmith-generator or adsmith-campaigner; the program label of its series.';
COMMENT ON COLUMN process_metrics.pid IS 'Process id on its host.';
COMMENT ON COLUMN process_metrics.started_at IS 'When the process started (its counters count from then).';
COMMENT ON COLUMN process_metrics.updated_at IS 'When the snapshot was written; older than three intervals and the process is left out of scrapes.';
COMMENT ON COLUMN process_metrics.snapshot IS 'The process''s series: {"series": [{"m": metric name, "l": rendered labels, "v": [raw values]}]} (src/core/metrics.c).';
COMMENT ON INDEX process_metrics_updated_idx IS 'Scrapes read the fresh rows and prune the stale ones.';
