-- Operator alert rules (issue 18, decision 039): boundary values per metric, set through
-- /v1/alert-rules and rendered as one Prometheus rule group (`devicehub-operator`) that the
-- gateway's rules loop writes to Prometheus's rules folder and reloads. `metric` is a PromQL
-- expression; the alert fires when `(<metric>) <op> <threshold>` holds for `for_seconds`.
-- The rules loop compares the rendered group (its SHA-256 is the rules' version) with what it applied.
create table alert_rules (
  id           bigserial primary key,
  name         text not null unique,
  metric       text not null,
  op           text not null check (op in ('>', '<', '>=', '<=')),
  threshold    double precision not null,
  for_seconds  integer not null check (for_seconds >= 0),
  severity     text not null check (severity in ('info', 'warning', 'critical')),
  summary      text not null,
  labels       jsonb not null default '{}'::jsonb,
  updated_at   timestamptz not null default now()
);
