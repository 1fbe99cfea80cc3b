-- The alarm history's reads (GET /v1/alarms, issue 16): newest first by (at, event id), over a time
-- range, for the fleet or one edge. Created on the partitioned parent, so every month's partition
-- (and the default one) has them, the ones created later too.
create index alarms_at on alarms (at desc, event_id desc);
create index alarms_edge_at on alarms (edge_id, at desc, event_id desc);
