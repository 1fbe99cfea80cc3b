-- Browser terminals into edges through their tunnels: who, which edge and tunnel, when, and the
-- bytes each way (keystrokes in, screen out).
create table terminal_sessions (
  id            text primary key,
  tunnel_id     text not null,
  edge_id       text not null,
  actor         text not null,
  started_at    timestamptz not null default now(),
  ended_at      timestamptz,
  bytes_in      bigint not null default 0,
  bytes_out     bigint not null default 0,
  end_reason    text
);
create index terminal_sessions_edge on terminal_sessions (edge_id, started_at desc);
