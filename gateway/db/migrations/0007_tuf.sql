-- The Update Framework's metadata (issue 15): every signed version of every top-level role, the
-- exact bytes served at /v1/tuf/metadata, so every gateway serves the same versions. Signing
-- takes the one row of tuf_signing `for update` first: versions are assigned one at a time
-- across all gateways. Old timestamps are deleted as new ones are signed (clients only ever ask
-- for timestamp.json); root, targets and snapshot versions stay (N.<role>.json is immutable).
create table tuf_metadata (
  role        text not null check (role in ('root', 'targets', 'snapshot', 'timestamp')),
  version     integer not null check (version >= 1),
  body        text not null,
  expires_at  timestamptz not null,
  created_at  timestamptz not null default now(),
  primary key (role, version)
);

create table tuf_signing (
  id smallint primary key check (id = 1)
);
insert into tuf_signing (id) values (1);
