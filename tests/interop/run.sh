#!/usr/bin/env bash
# The interop suite: installs the pinned independent peers (PyPI and npm) into a
# cache, builds the project's binaries and runs tests/interop/suite.py, which
# writes the matrix to docs/interop.md.
#
#   tests/interop/run.sh [--verbose]
#
# OSTATUS_INTEROP_CACHE: where the peers are kept between runs
# (default ~/.cache/ostatus-interop). Needs python3 (3.11+), node and npm, and
# php with Debian's php-pubsubhubbub-publisher (installed here when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${OSTATUS_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ostatus-interop}
mkdir -p "$cache"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
# Debian's PuSH 0.3 publisher library, the third-party publisher.
if ! command -v php >/dev/null || [ ! -f /usr/share/php/Pubsubhubbub/Publisher/Publisher.php ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq php-cli php-curl php-pubsubhubbub-publisher >/dev/null
fi
for tool in python3 node npm cargo php; do
    command -v "$tool" >/dev/null || { echo "interop: $tool is needed and not installed" >&2; exit 1; }
done

# One virtualenv per version of requirements.txt: a changed pin gets a fresh one.
req_hash=$(sha256sum "$here/requirements.txt" | cut -c1-16)
venv="$cache/venv-$req_hash"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --cache-dir "$cache/pip" -r "$here/requirements.txt"
    touch "$venv/.complete"
fi

# The JavaScript peers, from the lock file, in the same way.
lock_hash=$(cat "$here/js/package.json" "$here/js/package-lock.json" | sha256sum | cut -c1-16)
js="$cache/js-$lock_hash"
if [ ! -f "$js/.complete" ]; then
    rm -rf "$js"
    mkdir -p "$js"
    cp "$here/js/package.json" "$here/js/package-lock.json" "$js/"
    (cd "$js" && npm ci --no-audit --no-fund --cache "$cache/npm" --loglevel=error >/dev/null)
    touch "$js/.complete"
fi
cp "$here"/js/*.cjs "$here"/js/*.mjs "$js/"

(cd "$root" && cargo build --quiet -p ostatus-server -p ostatus-cli)
target=$(cd "$root" && cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

exec "$venv/bin/python" "$here/suite.py" --bin "$target/debug" --js "$js" --matrix "$root/docs/interop.md" "$@"
