#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A throwaway PostgreSQL 15 server for the tests (Debian's postgresql-15):
#
#   pgserver.sh start DIR [LISTEN_ADDR]   prints the conninfo to use
#   pgserver.sh stop DIR                  stops that server, and only it
#
# start runs initdb in DIR/data (once: a later start reuses the cluster,
# its role and its data, so a test can stop the server and bring it back)
# as an unprivileged user: under root, postgres if it exists, else nobody
# (initdb and pg_ctl refuse root); otherwise the caller. The server
# listens on a Unix socket in DIR and, if LISTEN_ADDR is given, on
# LISTEN_ADDR:5432 and nowhere else (run this script with `ip netns exec
# NS` to put the server in a namespace); no fsync, for speed. Once it
# accepts connections (a bounded wait), start makes the role vpnd (LOGIN,
# CREATEDB: the unit test makes a database per case) with a random
# password and the database vpnd it owns, writes the password to
# DIR/pgpass (0600, owned by $PGSERVER_CLIENT, default the caller) and
# prints a conninfo naming that file (passfile=), over LISTEN_ADDR if
# given, else over the socket: clients log in with a password read from a
# file, as vpnd does in production. The superuser (named after the
# unprivileged user) logs in by peer over the socket only.
#
# The caller stops the server (a trap): stop is pg_ctl stop -m fast,
# bounded, then -m immediate; a server already stopped is no error.
# DIR's parent must be searchable by the unprivileged user.
set -eu

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=5432
ROLE=vpnd
DATABASE=vpnd
# Seconds pg_ctl waits for a start or a stop.
WAIT_S=60

die() {
	echo "pgserver.sh: $*" >&2
	exit 1
}

usage() {
	die "usage: pgserver.sh start DIR [LISTEN_ADDR] | stop DIR"
}

# The user the server runs as.
server_user() {
	if [ "$(id -u)" -ne 0 ]; then
		id -un
	elif id -u postgres >/dev/null 2>&1; then
		echo postgres
	else
		echo nobody
	fi
}

# as USER COMMAND...: COMMAND as USER (we are root), or as we are.
as() {
	local user=$1
	shift
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$user" -- "$@"
	else
		"$@"
	fi
}

require_pg() {
	[ -x "$PG_BIN/initdb" ] ||
		die "PostgreSQL 15 is not installed ($PG_BIN/initdb missing):" \
			"apt-get install postgresql (make deps does)"
}

# init DIR USER: a new cluster in DIR/data; peer for the superuser over
# the socket, a password (SCRAM) for everyone else, over both.
init() {
	local dir=$1 user=$2
	as "$user" "$PG_BIN/initdb" -D "$dir/data" -U "$user" -E UTF8 \
		--locale=C --auth-local=peer --auth-host=scram-sha-256 \
		--no-instructions >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die "initdb failed in $dir/data"; }
	cat >"$dir/data/pg_hba.conf" <<-EOF
	local all $user peer
	local all all scram-sha-256
	host all all 0.0.0.0/0 scram-sha-256
	host all all ::/0 scram-sha-256
	EOF
	chown "$user": "$dir/data/pg_hba.conf"
}

# psql_super DIR USER SQL: one statement as the superuser.
psql_super() {
	as "$2" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$1" -p "$PORT" \
		-d postgres -c "$3" >/dev/null
}

# make_role DIR USER: the role and database vpnd, and the passfile.
make_role() {
	local dir=$1 user=$2 password
	password=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
	psql_super "$dir" "$user" \
		"CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$password'"
	psql_super "$dir" "$user" "CREATE DATABASE $DATABASE OWNER $ROLE"
	(umask 077 && echo "*:*:*:$ROLE:$password" >"$dir/pgpass")
	chmod 0600 "$dir/pgpass"
	chown "${PGSERVER_CLIENT:-$(id -u)}" "$dir/pgpass"
}

start() {
	local dir=$1 addr=${2:-} user is_new=false host opts
	require_pg
	user=$(server_user)
	mkdir -p "$dir"
	chown "$user": "$dir"
	chmod 0711 "$dir"
	as "$user" test -x "$dir" ||
		die "$user cannot reach $dir: its parent must be searchable (chmod o+x)"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		init "$dir" "$user"
		is_new=true
	fi
	# One line: pg_ctl hands these to a shell command line.
	opts="-p $PORT -k '$dir' -c listen_addresses='$addr' -c fsync=off"
	opts+=" -c synchronous_commit=off -c full_page_writes=off"
	opts+=" -c log_connections=on -c log_disconnections=on"
	as "$user" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
		-w -t "$WAIT_S" -o "$opts" start >/dev/null ||
		{ tail -n 20 "$dir/postgres.log" >&2; die "the server in $dir did not start"; }
	[ "$is_new" = false ] || make_role "$dir" "$user"
	host=${addr:-$dir}
	# connect_timeout: a connection and its SCRAM exchange can take more
	# than vpnd's default 2 s on a loaded test machine (ASan, tests run in
	# parallel); a server that is down refuses at once all the same.
	echo "host=$host port=$PORT dbname=$DATABASE user=$ROLE" \
		"passfile=$dir/pgpass connect_timeout=10"
}

stop() {
	local dir=$1 user
	[ -f "$dir/data/postmaster.pid" ] || return 0
	require_pg
	user=$(stat -c %U "$dir/data")
	as "$user" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t "$WAIT_S" \
		stop >/dev/null 2>&1 ||
		as "$user" "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w \
			-t "$WAIT_S" stop >/dev/null 2>&1 ||
		die "could not stop the server in $dir"
}

[ $# -ge 2 ] || usage
case $1 in
start)
	[ $# -le 3 ] || usage
	start "$2" "${3:-}"
	;;
stop)
	[ $# -eq 2 ] || usage
	stop "$2"
	;;
*)
	usage
	;;
esac
