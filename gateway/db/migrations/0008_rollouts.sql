-- Rollouts (issue 15): what an operator asked for, kept so the list survives the actors' state
-- and a gateway's restart. The rollout's live state (waves, members, counts) is its actor's
-- (`rollout/<id>`); `status` here is the last one a gateway saw, `finished_at` set once the
-- rollout ended (the membership job stops looking at it). A configuration rollout names the
-- document (kind, scope) and the version it delivers; edges not admitted yet are served
-- `config_base_version` (the version before).
create table rollouts (
  id                   text primary key,
  name                 text not null,
  status               text not null default 'running',
  filter               text not null,
  request              jsonb not null,
  spec                 jsonb not null,
  config_kind          text,
  config_scope         text,
  config_version       integer,
  config_base_version  integer,
  members              integer not null default 0,
  created_by           text not null,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  finished_at          timestamptz
);
create index rollouts_active on rollouts (created_at) where finished_at is null;

-- Who is in a rollout, as the gateway sent them (create, then join for edges that match later).
create table rollout_members (
  rollout_id  text not null references rollouts (id) on delete cascade,
  edge_id     text not null,
  wave        integer,
  joined_at   timestamptz not null default now(),
  primary key (rollout_id, edge_id)
);
