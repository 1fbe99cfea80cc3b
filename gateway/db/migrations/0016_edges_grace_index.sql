-- The rotations whose grace period is running (gateway/credentials/rotation.ts `expire`): its pass
-- every 30 s looked for due rows over every edge of the registry. A partial index holds only the
-- few edges in a grace period.
create index edges_grace_until on edges (previous_secret_until) where previous_secret_until is not null;
