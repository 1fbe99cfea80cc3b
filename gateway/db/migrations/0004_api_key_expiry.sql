-- API keys expire and rotate (issue 14, item 5). Every key has an end; a rotation puts a new
-- key in place under the same id and keeps the old one working until previous_expires_at (the
-- grace period), so clients can move over without a gap. Keys made before this migration get
-- the default lifetime from now, so an upgrade stops no client.
alter table api_keys add column expires_at timestamptz not null default (now() + interval '90 days');
alter table api_keys add column rotated_at timestamptz;
-- SHA-256 of the key before the last rotation, accepted until previous_expires_at.
alter table api_keys add column previous_key_hash text unique;
alter table api_keys add column previous_expires_at timestamptz;
