-- When an edge's registry row last changed (its group, labels, secret, credentials), set by the
-- database's clock on every update (schema.ts). The fleet view's refresh compares the newest
-- one (gateway/fleet-view.ts): it compared the audit log's newest id, which every audited call
-- moves (a command sent to one edge, a tunnel opened), and at 50,000 edges each move meant a
-- whole reload of the view on every gateway. The index makes max(updated_at) one probe.
alter table edges add column updated_at timestamptz not null default now();
create index edges_updated_at on edges (updated_at);
