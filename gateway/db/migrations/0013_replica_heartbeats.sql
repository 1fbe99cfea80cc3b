-- Replica heartbeats (issue 20, decision 044): each gateway process with a read replica writes
-- its row on the primary every few hundred milliseconds (a counter) and reads it back on the
-- replica; the counter it finds there says how far behind the replica is, in time, whatever else
-- the primary is doing (an idle primary writes nothing else, and a replica would look late).
-- A small table: on Citus, a reference table. Rows of processes gone for an hour are deleted.
create table replica_heartbeats (
  writer  text primary key,
  seq     bigint not null,
  at      timestamptz not null default now()
);
