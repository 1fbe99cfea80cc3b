#!/bin/sh
# Run once by the postgres image when it creates the primary's data (docker-entrypoint-initdb.d):
# the read replica (postgres-replica) streams the WAL with the devicehub login (docs/decisions/044).
# The image allows `host all all all scram-sha-256`, which does not cover replication. A primary
# whose volume exists already needs this line added to its pg_hba.conf by hand (then a reload).
set -eu
echo "host replication devicehub all scram-sha-256" >> "$PGDATA/pg_hba.conf"
