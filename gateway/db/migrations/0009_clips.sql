-- Alarm clips (issue 16): one row per clip an edge actor requested, keyed by its clip id
-- (clipIdOf(edge, alarm, alarm start), also the Ezviz fileId). The outbox sink inserts it
-- 'queued' when it queues the job (a replayed request finds the row and adds nothing); the clip
-- workers move it through saving → waiting → downloading → stored or failed, and the retention
-- sweeper marks it deleted once its objects are gone past expires_at.
create table clips (
  id              text primary key,
  edge_id         text not null,
  alarm           text not null,
  alarm_since     timestamptz not null,
  -- null: the alarm lasted the kind's longest clip and was cut there
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
  updated_at      timestamptz not null default now()
);
create index clips_edge on clips (edge_id, alarm_since desc);
create index clips_status on clips (status);
create index clips_expires on clips (expires_at);
