#!/bin/sh
# auth.conf reads each user's password from NATS_<USER>_PASSWORD; compose hands them over as
# secret files (kept out of the compose file and `docker inspect`), so export them, then start.
set -eu
secrets="${NATS_SECRETS_DIR:-/run/secrets}"
for user in ingest registry progress notify supervisor operator; do
  upper=$(echo "$user" | tr '[:lower:]' '[:upper:]')
  export "NATS_${upper}_PASSWORD=$(cat "$secrets/nats_${user}_password")"
done
exec nats-server "$@"
