-- The gateway's first schema: edges, API keys, configuration documents with their history,
-- the broker pool and the audit log. Tunnels and the time-partitioned alarms come with their
-- features.

create table edges (
  id            text primary key,
  group_id      text,
  labels        jsonb not null default '{}',
  -- SHA-256 of the edge's random secret (its configuration-download and broker password).
  secret_hash   text not null,
  created_at    timestamptz not null default now()
);

create table api_keys (
  id            text primary key,
  name          text not null,
  scope         text not null check (scope in ('service', 'operator', 'admin')),
  -- SHA-256 of the key; the key itself is shown once, when it is created.
  key_hash      text not null unique,
  created_at    timestamptz not null default now(),
  revoked_at    timestamptz
);

-- One current document per (kind, scope): scope is 'global', 'group:<id>' or 'module:<id>'.
create table config_documents (
  kind          text not null check (kind in ('edge', 'devicehub', 'screen')),
  scope         text not null,
  version       integer not null,
  body          jsonb not null,
  updated_by    text not null,
  updated_at    timestamptz not null default now(),
  primary key (kind, scope)
);

create table config_versions (
  kind          text not null,
  scope         text not null,
  version       integer not null,
  body          jsonb not null,
  created_by    text not null,
  created_at    timestamptz not null default now(),
  primary key (kind, scope, version)
);

create table brokers (
  id            text primary key,
  transport     text not null check (transport in ('mqtt', 'kafka')),
  -- mqtt: the URL edges connect to; kafka: comma-separated bootstrap brokers.
  address       text not null,
  weight        integer not null default 1 check (weight between 0 and 1000),
  created_at    timestamptz not null default now()
);

create table audit_log (
  id            bigserial primary key,
  at            timestamptz not null default now(),
  actor         text not null,
  action        text not null,
  target        text not null,
  details       jsonb not null default '{}'
);
create index audit_log_target on audit_log (target, at);
