#!/usr/bin/env bash
# Installs the programs tests/test_source_databases.py starts its own database servers from, when they
# are missing: PostgreSQL (initdb, pg_ctl, psql) and MariaDB (mariadbd, mariadb-install-db, the mariadb
# client and mariadb-binlog), from Debian's packages. The tests run throw-away servers from a temporary
# directory on a free port; the packages' system services are never started (the install runs with
# service starts denied) nor needed.
# Also shellcheck, which tests/test_bootstrap_script.py runs over the generated bootstrap.sh, and a Java runtime
# for the local Spark of tests/test_spark_merge.py.
# Not root or no apt-get: says what is missing and leaves it to the tests (skipped locally, failed under
# CI=true).
set -euo pipefail

have_postgres() {
  { command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; } && command -v psql >/dev/null
}
have_mariadb() {
  local path="$PATH:/usr/sbin:/usr/local/sbin"
  PATH="$path" command -v mariadbd >/dev/null || PATH="$path" command -v mysqld >/dev/null || return 1
  command -v mariadb-install-db >/dev/null || command -v mysql_install_db >/dev/null || return 1
  command -v mariadb >/dev/null || command -v mysql >/dev/null || return 1
  command -v mariadb-binlog >/dev/null || command -v mysqlbinlog >/dev/null
}

packages=()
have_postgres || packages+=(postgresql)
have_mariadb || packages+=(mariadb-server mariadb-client)
command -v shellcheck >/dev/null || packages+=(shellcheck)
command -v java >/dev/null || packages+=(openjdk-17-jre-headless)  # tests/test_spark_merge.py runs a real Spark
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-test-databases: missing ${packages[*]}; install them (Debian: apt-get install ${packages[*]})," \
       "or the database tests are skipped (and fail under CI=true)" >&2
  exit 0
fi

echo "ensure-test-databases: installing ${packages[*]}" >&2
# Deny service starts during the install (Debian's policy-rc.d protocol: exit 101) unless the machine
# already has a policy: the tests start their own servers.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null; }
# A fresh machine may have no package lists yet: update once and retry.
apt_install || { apt-get update -q >/dev/null && apt_install; }
if ! { have_postgres && have_mariadb && command -v shellcheck >/dev/null && command -v java >/dev/null; }; then
  echo "ensure-test-databases: ${packages[*]} installed but programs still missing" >&2
  exit 1
fi
