#!/bin/sh
# PgBouncer's configuration from the environment (docs/decisions/044): transaction pooling in front
# of the primary, SCRAM with the devicehub login (the plain password in its auth file lets it log in
# to PostgreSQL with SCRAM too). Clients must not use named prepared statements (1.18 has no
# max_prepared_statements): the gateways' and workers' postgres.js does not (gateway/db/database.ts).
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
dir=/tmp/pgbouncer
mkdir -p "$dir"
umask 077
printf '"devicehub" "%s"\n' "$(printf %s "$POSTGRES_PASSWORD" | sed 's/"/""/g')" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<EOF
[databases]
devicehub = host=${PRIMARY_HOST:-postgres} port=5432 dbname=devicehub
[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 4000
default_pool_size = ${PGBOUNCER_POOL_SIZE:-40}
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
EOF
exec pgbouncer "$dir/pgbouncer.ini"
