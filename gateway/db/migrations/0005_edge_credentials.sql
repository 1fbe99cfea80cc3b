-- Edge credentials that rotate (issue 14): a rotation keeps the old secret's hash until the edge
-- confirms the new secret or the grace period ends; the new secret waits for the edge sealed
-- (AES-256-GCM under the gateway's sealing key, a file like the CA's key), never in clear.
-- credentials_version changes the edge's configuration, so its long-poll hears of a rotation.
alter table edges add column credentials_version integer not null default 0;
alter table edges add column previous_secret_hash text;
alter table edges add column previous_secret_until timestamptz;
alter table edges add column pending_secret text;

-- Every certificate the fleet CA issued to an edge. Rows outlive the edge's registration: a
-- revoked certificate stays on the CRL until it would have expired anyway.
create table edge_certificates (
  edge_id             text not null,
  serial              text not null,
  fingerprint_sha256  text not null,
  not_before          timestamptz not null,
  not_after           timestamptz not null,
  issued_at           timestamptz not null default now(),
  revoked_at          timestamptz,
  revoke_reason       text check (revoke_reason in ('keyCompromise', 'superseded', 'cessationOfOperation')),
  primary key (edge_id, serial)
);
create index edge_certificates_revoked on edge_certificates (not_after) where revoked_at is not null;
