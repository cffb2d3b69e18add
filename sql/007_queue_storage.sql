-- The queue tables are updated in place several times per row (claim,
-- heartbeat, completion) and read by the claim at every wake-up. Left to
-- the defaults, autovacuum waits for 20 % of the table to be dead, which on
-- a large table of finished jobs means hundreds of thousands of dead tuples
-- ahead of the claim. Vacuum after a fixed number of dead tuples instead,
-- and keep room on each page so that claims and heartbeats (which touch no
-- indexed column) can be HOT updates that leave the indexes alone.
ALTER TABLE generated_images SET (
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);
