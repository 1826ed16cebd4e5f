#!/usr/bin/env bash
# Native PostgreSQL 15 + pgvector for the integration tests. Idempotent: every step checks
# whether it is already done, so a second run takes well under a second.
#
# Debian bookworm ships no pgvector for PostgreSQL 15 in its main archive, and CI only reaches
# npm and Debian apt, so pgvector is built from the trixie source package, fetched with a
# private sources list (the system's sources stay untouched).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
CLUSTER=main
ROLE=embedform
PASSWORD=embedform
DATABASE=embedform_test
WORK_DIR="$PWD/.cache/pgvector-src"
CONTROL="/usr/share/postgresql/$PG_MAJOR/extension/vector.control"

die() {
  echo "setup-postgres: ERROR: $*" >&2
  exit 1
}
say() { echo "setup-postgres: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and manages the PostgreSQL cluster)"
command -v pg_lsclusters >/dev/null || die "postgresql-common is not installed (apt-get install postgresql-$PG_MAJOR)"

# The Debian mirror this machine already uses (deb822 .sources or one-line sources.list), never a
# host written here: the first URI of a `deb` source whose path ends in /debian.
debian_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }')
  fi
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}: add one (deb <mirror>/debian bookworm main) and run again"
  echo "${uri%/}"
}

install_pgvector() {
  mkdir -p "$WORK_DIR/lists/partial"
  local sources="$WORK_DIR/trixie-src.list"
  echo "deb-src $(debian_mirror) trixie main" >"$sources"
  # Sandbox user root: the work dir is not readable by _apt, which only costs a warning.
  local opts=(-o "Dir::Etc::sourcelist=$sources" -o "Dir::Etc::sourceparts=/dev/null" -o "Dir::State::Lists=$WORK_DIR/lists" -o "APT::Sandbox::User=root")

  if ! ls -d "$WORK_DIR"/pgvector-*/ >/dev/null 2>&1; then
    say "fetching pgvector source package from Debian trixie"
    apt-get "${opts[@]}" -qq update >/dev/null || die "apt-get update of the private trixie deb-src list failed (is the Debian mirror $(debian_mirror) reachable?)"
    (cd "$WORK_DIR" && apt-get "${opts[@]}" -qq source --download-only pgvector >/dev/null) ||
      die "apt-get source pgvector failed"
    (cd "$WORK_DIR" && dpkg-source -x --no-check pgvector_*.dsc >/dev/null) || die "unpacking the pgvector source package failed"
  fi
  local src
  src=$(ls -d "$WORK_DIR"/pgvector-*/ | head -n1)

  if ! [ -x "/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" ] || ! [ -f "/usr/include/postgresql/$PG_MAJOR/server/postgres.h" ]; then
    say "installing postgresql-server-dev-$PG_MAJOR"
    apt-get -qq update >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get -qq install -y "postgresql-server-dev-$PG_MAJOR" >/dev/null ||
      die "apt-get install postgresql-server-dev-$PG_MAJOR failed"
  fi

  say "building pgvector in $src"
  local pgc="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
  make -s -C "$src" PG_CONFIG="$pgc" -j"$(nproc)" >/dev/null 2>"$WORK_DIR/build.log" || die "pgvector build failed, see $WORK_DIR/build.log"
  make -s -C "$src" PG_CONFIG="$pgc" install >/dev/null 2>>"$WORK_DIR/build.log" || die "pgvector install failed, see $WORK_DIR/build.log"
  [ -f "$CONTROL" ] || die "pgvector installed but $CONTROL is missing"
}

[ -f "$CONTROL" ] || install_pgvector

status=$(pg_lsclusters --no-header | awk -v v="$PG_MAJOR" -v c="$CLUSTER" '$1 == v && $2 == c { print $4 }')
[ -n "$status" ] || die "no PostgreSQL cluster $PG_MAJOR/$CLUSTER (pg_createcluster $PG_MAJOR $CLUSTER)"
if [ "$status" != "online" ]; then
  say "starting cluster $PG_MAJOR/$CLUSTER"
  pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" "$CLUSTER" start || die "could not start cluster $PG_MAJOR/$CLUSTER (see /var/log/postgresql/postgresql-$PG_MAJOR-$CLUSTER.log)"
fi

psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  say "creating role $ROLE"
  psql_admin -c "CREATE ROLE $ROLE LOGIN SUPERUSER CREATEDB PASSWORD '$PASSWORD'" || die "CREATE ROLE failed"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
  say "creating database $DATABASE"
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE" || die "CREATE DATABASE failed"
fi
psql_admin -d "$DATABASE" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS vector" || die "CREATE EXTENSION vector failed in $DATABASE"

echo "postgres://$ROLE:$PASSWORD@127.0.0.1:5432/$DATABASE"
