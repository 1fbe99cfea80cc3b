-- Artifacts of the updates (issue 15): edge packages, wall-screen bundles, recognition models. The
-- bytes are in the object store under artifacts/sha256/<sha256> (content-addressed); a row is
-- written only after the bytes are there and their hash checked, so every row has its object.
-- One name/version is one artifact, and one content is one artifact (sha256 is the key the TUF
-- targets, the CDN and the agents use).
create table artifacts (
  sha256      text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
  kind        text not null check (kind in ('edge-package', 'screen-bundle', 'model')),
  name        text not null,
  version     text not null,
  hardware    jsonb not null default '[]',
  size        bigint not null check (size > 0),
  file_name   text not null,
  created_by  text not null,
  created_at  timestamptz not null default now(),
  unique (kind, name, version)
);
create index artifacts_created on artifacts (created_at desc);
