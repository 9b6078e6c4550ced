#!/usr/bin/env bash
# Starts the services the test suites need (PostgreSQL, MariaDB, Redis) when they are down,
# and fails loudly when one cannot be reached. Never skips.
set -euo pipefail

wait_for() { # name, check command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "service $name: up"; return 0; fi
    sleep 1
  done
  echo "service $name: DOWN (could not start or reach it)" >&2
  return 1
}

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -U postgres; }
if ! pg_up >/dev/null 2>&1; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
wait_for postgresql pg_up

mysql_up() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping; }
if ! mysql_up >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
wait_for mariadb mysql_up

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }
if ! redis_up; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
wait_for redis redis_up
