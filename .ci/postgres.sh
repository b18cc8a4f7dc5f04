# Sourced by .ci/run, and by hand before running the tests (README
# "PostgreSQL"): starts a private, throwaway PostgreSQL cluster for the
# store tests and exports MAILROOM_TEST_POSTGRES_DSN. The cluster lives in a
# temporary folder, listens only on a Unix socket there (no TCP port, so it
# cannot clash with another server), runs without fsync (its data is thrown
# away), and is stopped and removed when the shell that sourced this exits.
#
# Debian's postgresql package provides the server; it is installed when
# missing. As root, the cluster runs as the postgres user it creates. The
# cleanup is an EXIT trap: a script that sources this must not set its own.

if ! command -v pg_ctlcluster >/dev/null || ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y postgresql >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y postgresql >/dev/null; }
fi
mailroom_pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
mailroom_pg_dir=$(mktemp -d /tmp/mailroom-pg.XXXXXX)
mailroom_pg_as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$mailroom_pg_dir"
  mailroom_pg_as=(runuser -u postgres --)
fi
mailroom_pg_stop() {
  "${mailroom_pg_as[@]}" "$mailroom_pg_bin/pg_ctl" -D "$mailroom_pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$mailroom_pg_dir"
}
trap mailroom_pg_stop EXIT
"${mailroom_pg_as[@]}" "$mailroom_pg_bin/initdb" -D "$mailroom_pg_dir/data" -U postgres -A trust \
  -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
"${mailroom_pg_as[@]}" "$mailroom_pg_bin/pg_ctl" -D "$mailroom_pg_dir/data" -l "$mailroom_pg_dir/server.log" -w \
  -o "-k $mailroom_pg_dir -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
"${mailroom_pg_as[@]}" "$mailroom_pg_bin/psql" -h "$mailroom_pg_dir" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE mailroom LOGIN" -c "CREATE DATABASE mailroom OWNER mailroom"
export MAILROOM_TEST_POSTGRES_DSN="host=$mailroom_pg_dir user=mailroom dbname=mailroom sslmode=disable"
