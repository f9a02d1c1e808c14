#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1; start them if this machine can.
# Under CI=true a service that cannot be reached is an error (tests of the scale-out path must run).
set -u
pg_ok() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_ok() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }

if ! pg_ok && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
fi
if ! redis_ok && command -v redis-server >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1 || true
fi
for _ in $(seq 1 20); do pg_ok && redis_ok && break; sleep 0.5; done
status=0
pg_ok || { echo "services: PostgreSQL is not reachable on 127.0.0.1:5432"; status=1; }
redis_ok || { echo "services: Redis is not reachable on 127.0.0.1:6379"; status=1; }
if [ "$status" -ne 0 ] && [ "${CI:-}" = "true" ]; then
  exit 1
fi
exit 0
