-- Partitions and a Citus-ready schema (issue 20, decision 045): every large table carries its
-- distribution column, edge_id, in its primary key, and the ones that grow with time are split
-- into monthly partitions that retention drops whole (gateway/alarms/retention.ts).
-- (Dollar quotes here are tagged, $p$: the migration runner wraps the file in an untagged one.)

-- The alarm history: keyed (edge_id, recorded_at, event_id). A redelivered outbox entry has the
-- same recorded_at (its emission time) and event id, so it is still stored once. The key serves
-- one edge's history newest first (read backwards); the history is paged on (recorded_at,
-- event_id), the partition key first, so a time range and a cursor both prune months.
alter table alarms drop constraint alarms_pkey;
alter table alarms add primary key (edge_id, recorded_at, event_id);
drop index if exists alarms_edge;
drop index if exists alarms_at;
drop index if exists alarms_edge_at;
create index alarms_recorded on alarms (recorded_at desc, event_id desc);
create index alarms_kind on alarms (alarm, recorded_at desc, event_id desc);

-- "By building": the edges whose building label (else their group) is this, by index, not a scan
-- of every edge's labels.
create index if not exists edges_building on edges ((coalesce(labels ->> 'building', group_id)));

-- Alarm clips: monthly partitions on requested_at (the clip request's own time, the same when a
-- request is replayed), keyed (edge_id, requested_at, id); looked up by id through clips_id.
-- The rows already there move into the new table, in partitions made for their months.
alter table clips rename to clips_before_0012;
alter index clips_pkey rename to clips_before_0012_pkey;
alter index clips_edge rename to clips_before_0012_edge;
alter index clips_status rename to clips_before_0012_status;
alter index clips_expires rename to clips_before_0012_expires;
create table clips (
  id              text not null,
  edge_id         text not null,
  alarm           text not null,
  alarm_since     timestamptz not null,
  alarm_end       timestamptz,
  camera_serial   text,
  camera_channel  integer,
  window_start    timestamptz not null,
  window_end      timestamptz not null,
  status          text not null check (status in
                    ('queued', 'saving', 'waiting', 'downloading', 'stored', 'failed', 'deleted')),
  code            text,
  reason          text,
  attempts        integer not null default 0,
  ezviz_task_id   text,
  video_key       text,
  poster_key      text,
  bytes           bigint,
  sha256          text,
  duration_ms     integer,
  requested_at    timestamptz not null,
  stored_at       timestamptz,
  retention_days  integer not null,
  expires_at      timestamptz,
  worker          text,
  updated_at      timestamptz not null default now(),
  primary key (edge_id, requested_at, id)
) partition by range (requested_at);
create table clips_default partition of clips default;
create index clips_id on clips (id);
create index clips_edge on clips (edge_id, alarm_since desc);
create index clips_status on clips (status);
create index clips_expires on clips (expires_at);
do $p$
declare
  m timestamp;
begin
  for m in select distinct date_trunc('month', requested_at at time zone 'UTC') from clips_before_0012 loop
    execute format(
      'create table %I partition of clips for values from (%L) to (%L)',
      'clips_y' || to_char(m, 'YYYY') || 'm' || to_char(m, 'MM'),
      to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00',
      to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00'
    );
  end loop;
end
$p$;
insert into clips (id, edge_id, alarm, alarm_since, alarm_end, camera_serial, camera_channel,
  window_start, window_end, status, code, reason, attempts, ezviz_task_id, video_key, poster_key,
  bytes, sha256, duration_ms, requested_at, stored_at, retention_days, expires_at, worker, updated_at)
select id, edge_id, alarm, alarm_since, alarm_end, camera_serial, camera_channel,
  window_start, window_end, status, code, reason, attempts, ezviz_task_id, video_key, poster_key,
  bytes, sha256, duration_ms, requested_at, stored_at, retention_days, expires_at, worker, updated_at
from clips_before_0012;
drop table clips_before_0012;
