-- Citus-ready (decision 045): tunnels and terminal sessions carry their distribution column,
-- edge_id, in their primary key, like alarms and clips (0012); a lookup by id alone keeps an index
-- (on Citus, a query to every shard: tunnels are few). Ids stay unique by construction (random).
alter table tunnels drop constraint tunnels_pkey;
alter table tunnels add primary key (edge_id, id);
create index tunnels_id on tunnels (id);
alter table terminal_sessions drop constraint terminal_sessions_pkey;
alter table terminal_sessions add primary key (edge_id, id);
create index terminal_sessions_id on terminal_sessions (id);
