-- Remote-access tunnels: the request, the ports it holds and how it ended. The live state is the
-- edge actor's; the gateway's outbox sink writes each change here.
create table tunnels (
  id            text primary key,
  edge_id       text not null,
  -- [{"name": "ssh", "remotePort": 7001}, ...]; remotePort null in multiplexed mode
  services      jsonb not null,
  state         text not null check (state in ('requested', 'open', 'closed', 'expired', 'failed')),
  reason        text,
  requested_by  text not null,
  requested_at  timestamptz not null default now(),
  expires_at    timestamptz not null,
  opened_at     timestamptz,
  ended_at      timestamptz
);
create index tunnels_edge on tunnels (edge_id, requested_at desc);
create index tunnels_active on tunnels (state) where state in ('requested', 'open');

-- Alarm history: one row per alarm start or end, split into monthly tables (PostgreSQL native
-- range partitioning on recorded_at, the time the hub recorded the event — device clocks can be
-- wrong). The gateway creates the partitions of this month and the next ones at start and daily;
-- the default partition catches anything outside them. Old months are dropped (or detached and
-- archived) as whole tables. event_id is the outbox entry that carried it: redelivered, stored once.
create table alarms (
  event_id      text not null,
  recorded_at   timestamptz not null,
  edge_id       text not null,
  alarm         text not null,
  phase         text not null check (phase in ('start', 'end')),
  at            timestamptz not null,
  since         timestamptz,
  data          jsonb not null default '{}',
  primary key (event_id, recorded_at)
) partition by range (recorded_at);
create table alarms_default partition of alarms default;
create index alarms_edge on alarms (edge_id, recorded_at);
