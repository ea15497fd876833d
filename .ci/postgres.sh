#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1 for the tests that need
# one (the WebSub hub's PostgreSQL store), installing Debian's postgresql
# package when the machine has none. Prints the database URL on stdout;
# `.ci/postgres.sh stop DIR` stops it again.
#
#   export OSTATUS_TEST_POSTGRES_URL=$(.ci/postgres.sh start /tmp/pg)
set -euo pipefail

cmd=${1:-start}
dir=${2:-${TMPDIR:-/tmp}/ostatus-ci-postgres}
port=${OSTATUS_CI_PG_PORT:-54329}

bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
    [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# Runs a command as the postgres account when we are root (initdb and the
# server refuse to run as root), else as ourselves.
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    bin=$(bindir || true)
    if [ -z "$bin" ]; then
        echo "installing postgresql from Debian's packages" >&2
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
        bin=$(bindir)
    fi
    # The first free port from $port on.
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 755 "$(dirname "$dir")" "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    # Connections over TCP must give the password (SCRAM), as on a real
    # server, so that the tests of the hub's password sources prove
    # something; the socket in $dir stays trusted for the set-up.
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    printf '%s\n' "$password" >"$dir/pwfile"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-host=scram-sha-256 --auth-local=trust \
        --pwfile="$dir/pwfile" -E UTF8 >/dev/null
    rm -f "$dir/pwfile"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >&2
    as_pg "$bin/createdb" -h "$dir" -p "$port" -U postgres ostatus_test
    echo "postgres://postgres:$password@127.0.0.1:$port/ostatus_test"
    ;;
stop)
    bin=$(bindir)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
