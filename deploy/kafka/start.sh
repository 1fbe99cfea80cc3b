#!/bin/sh
# A KRaft node (broker and controller) with authentication (docs/decisions/018), as
# infra/kafka-security.ts runs it for the tests: clients and brokers on SASL_SSL with
# SCRAM-SHA-512 (each edge its own user, made by the gateways; the hub and the brokers' users
# written at format time), controllers on their own SASL_SSL listener with PLAIN, TLS from the
# fleet PKI (a PEM keystore: the key, then the certificate naming every kafka-N), the
# StandardAuthorizer denying what no ACL allows. A PLAINTEXT listener for legacy edges exists only
# when the operator sets KAFKA_LEGACY_PORT (a migration step: the link's fleet check is then the
# only guard of what they send). Secrets come from the environment; none is printed.
set -eu
: "${KAFKA_NODE_ID:?}" "${KAFKA_CONTROLLER_QUORUM_VOTERS:?}" "${KAFKA_HOST:?}" "${CLUSTER_ID:?}"
: "${KAFKA_HUB_PASSWORD:?}" "${KAFKA_BROKER_PASSWORD:?}" "${KAFKA_CONTROLLER_PASSWORD:?}"
certs=${KAFKA_CERTS_DIR:-/etc/kafka/certs}
config=${KAFKA_CONFIG_FILE:-/tmp/server.properties}
storage=${KAFKA_STORAGE_CMD:-/opt/kafka/bin/kafka-storage.sh}
start=${KAFKA_START_CMD:-/opt/kafka/bin/kafka-server-start.sh}
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-9093}
bind=${KAFKA_BIND:-}
listeners="SASL_SSL://$bind:$port,CONTROLLER://$bind:$controller_port"
advertised="SASL_SSL://$KAFKA_HOST:$port"
if [ -n "${KAFKA_LEGACY_PORT:-}" ]; then
  listeners="$listeners,LEGACY://$bind:$KAFKA_LEGACY_PORT"
  advertised="$advertised,LEGACY://$KAFKA_HOST:$KAFKA_LEGACY_PORT"
fi
replication=${KAFKA_DEFAULT_REPLICATION_FACTOR:-3}
umask 077
cat > "$config" <<PROPERTIES
process.roles=broker,controller
node.id=$KAFKA_NODE_ID
controller.quorum.voters=$KAFKA_CONTROLLER_QUORUM_VOTERS
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL,LEGACY:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker@devicehub" password="$KAFKA_BROKER_PASSWORD";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="devicehub-controller" password="$KAFKA_CONTROLLER_PASSWORD" user_devicehub-controller="$KAFKA_CONTROLLER_PASSWORD";
ssl.keystore.type=PEM
ssl.keystore.location=$certs/keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$certs/ca.crt
ssl.endpoint.identification.algorithm=https
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:hub@devicehub;User:broker@devicehub;User:devicehub-controller
connections.max.reauth.ms=${KAFKA_REAUTH_MS:-60000}
log.dirs=${KAFKA_LOG_DIRS:-/var/lib/kafka/data}
num.partitions=${KAFKA_NUM_PARTITIONS:-12}
default.replication.factor=$replication
min.insync.replicas=${KAFKA_MIN_INSYNC_REPLICAS:-2}
offsets.topic.replication.factor=${KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR:-3}
transaction.state.log.replication.factor=${KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR:-3}
transaction.state.log.min.isr=${KAFKA_TRANSACTION_STATE_LOG_MIN_ISR:-2}
unclean.leader.election.enable=${KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE:-false}
PROPERTIES
# The first start formats the storage with the hub's and the brokers' SCRAM users (KIP-900);
# later starts keep what is there (edges' users live in the cluster's metadata).
"$storage" format --ignore-formatted -t "$CLUSTER_ID" -c "$config" \
  --add-scram "SCRAM-SHA-512=[name=broker@devicehub,password=$KAFKA_BROKER_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=hub@devicehub,password=$KAFKA_HUB_PASSWORD]" >/dev/null
exec "$start" "$config"
