#!/bin/sh
# The streaming read replica (docs/decisions/044), from the same postgres image as the primary: on
# its first start (an empty volume) a base backup of the primary with the standby's settings (-R:
# standby.signal, primary_conninfo) and a physical replication slot (the primary keeps the WAL a
# replica that is down still needs), then a hot standby. The gateways read their history here
# (DATABASE_REPLICA_URL) and go to the primary when it is down or lagging.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${PRIMARY_HOST:=postgres}"
: "${REPLICA_SLOT:=devicehub_replica}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -q -h "$PRIMARY_HOST" -U devicehub; do sleep 1; done
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  # The slot stays on the primary when a replica's volume is wiped: reuse it then.
  slot="-C -S $REPLICA_SLOT"
  if [ "$(psql -h "$PRIMARY_HOST" -U devicehub -d postgres -tAc \
      "select 1 from pg_replication_slots where slot_name = '$REPLICA_SLOT'")" = "1" ]; then
    slot="-S $REPLICA_SLOT"
  fi
  # shellcheck disable=SC2086
  gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U devicehub -D "$PGDATA" -X stream -c fast -R $slot \
    -d "application_name=$REPLICA_SLOT"
fi
exec docker-entrypoint.sh postgres -c hot_standby=on -c hot_standby_feedback=on \
  -c max_standby_streaming_delay=5s -c wal_receiver_status_interval=1s
