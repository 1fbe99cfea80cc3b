#!/bin/sh
# First start: a dynamic-security file holding only the admin (the gateways create the rest
# through it: the link user, the default access all denied, every edge). Later starts keep the
# file dynsec has been maintaining.
set -eu
file=/mosquitto/data/dynamic-security.json
if [ ! -f "$file" ]; then
  mosquitto_ctrl dynsec init "$file" admin@devicehub "$MQTT_ADMIN_PASSWORD"
  chown mosquitto:mosquitto "$file" 2>/dev/null || true
fi
exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
