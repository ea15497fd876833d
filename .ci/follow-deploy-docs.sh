#!/usr/bin/env bash
# Follows docs/deploy.md from a fresh directory, so that the guide cannot
# drift from the binary (issue 20 item 8). Every fenced block tagged
# `sh ci` runs, in order, in one shell; `sh ci-background` blocks run in
# the background (a server); the `nginx ci-nginx` site runs for real with a
# test certificate in front of the node, and the `caddyfile ci-caddy` file
# is checked by `caddy validate`. The guide's variables point into a
# temporary directory and at free loopback ports; the environment adds
# OSTATUS_INSECURE=true (plain http on loopback) beside the guide's file.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/deploy.md
work=$(mktemp -d "${TMPDIR:-/tmp}/ostatus-deploy-docs.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cargo build -q -p ostatus-server
export PATH="$PWD/target/debug:$PATH"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export ETC="$work/etc" DATA="$work/data" BACKUPS="$work/backups" NEW_DATA="$work/new-data"
LISTEN="127.0.0.1:$(free_port)"; METRICS="127.0.0.1:$(free_port)"; NEW_LISTEN="127.0.0.1:$(free_port)"
export LISTEN METRICS NEW_LISTEN DOMAIN="$LISTEN" OSTATUS_INSECURE=true ALICE_PASSWORD=ci-password

# The tagged blocks, in order: one shell script, and the proxy files.
awk -v work="$work" '
    /^```(sh ci|sh ci-background|caddyfile ci-caddy|nginx ci-nginx)$/ { kind = $2; n++; body = ""; next }
    /^```$/ && kind != "" {
        if (kind == "ci") printf "%s", body >> (work "/steps.sh")
        else if (kind == "ci-background") {
            printf "( %s) >\"%s/background-%d.log\" 2>&1 &\npids+=($!)\n", body, work, n >> (work "/steps.sh")
        }
        else if (kind == "ci-caddy") printf "%s", body > (work "/Caddyfile")
        else if (kind == "ci-nginx") printf "%s", body > (work "/site.conf")
        kind = ""; next
    }
    kind != "" { body = body $0 "\n" }
' "$doc"
for f in steps.sh Caddyfile site.conf; do
    [ -s "$work/$f" ] || { echo "$doc: no block for $f" >&2; exit 1; }
done

echo "==> the guide's shell steps ($(grep -c . "$work/steps.sh") lines)"
# A shell of its own, so that -e holds for every step; the servers it
# starts are recorded for the cleanup, however it ends.
{
    echo "pids=(); trap 'printf \"%s\\n\" \"\${pids[@]}\" > \"$work/pids\"' EXIT"
    cat "$work/steps.sh"
} > "$work/run.sh"
status=0
timeout 300 bash -euo pipefail -x "$work/run.sh" || status=$?
[ -f "$work/pids" ] && mapfile -t pids < "$work/pids"
if [ "$status" != 0 ]; then
    for log in "$work"/background-*.log; do echo "--- $log"; tail -20 "$log"; done
    echo "docs/deploy.md: a step failed (exit $status)" >&2
    exit "$status"
fi

need() { # COMMAND: present, or a failure under CI, or a visible skip
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ -n "${CI:-}" ]; then echo "$1 is not installed (CI installs it)" >&2; exit 1; fi
    echo "$1 is not installed: its check SKIPPED"; return 1
}

if need caddy; then
    echo "==> caddy validate (the guide's Caddyfile)"
    caddy validate --adapter caddyfile --config "$work/Caddyfile"
fi

if need nginx; then
    echo "==> nginx with the guide's site, in front of the node, over TLS"
    mkdir -p "$work/nginx"
    # nginx's workers may run as another user (when CI runs as root).
    chmod 755 "$work" "$work/nginx"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=social.example.org" \
        -addext "subjectAltName=DNS:social.example.org" \
        -keyout "$work/nginx/key.pem" -out "$work/nginx/cert.pem" 2>/dev/null
    http_port=$(free_port); https_port=$(free_port)
    # Only what a test machine must change: ports, the node's address and
    # the certificate's paths.
    sed -e "s/listen 80;/listen 127.0.0.1:$http_port;/" \
        -e "s/listen 443 ssl/listen 127.0.0.1:$https_port ssl/" \
        -e "s#http://127.0.0.1:8080#http://$LISTEN#" \
        -e "s#/etc/letsencrypt/live/social.example.org/fullchain.pem#$work/nginx/cert.pem#" \
        -e "s#/etc/letsencrypt/live/social.example.org/privkey.pem#$work/nginx/key.pem#" \
        "$work/site.conf" > "$work/nginx/site.conf"
    cat > "$work/nginx/nginx.conf" <<CONF
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    include $work/nginx/site.conf;
}
CONF
    nginx -t -p "$work/nginx" -c "$work/nginx/nginx.conf"
    nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
    for _ in $(seq 50); do [ -f "$work/nginx/nginx.pid" ] && break; sleep 0.1; done
    curl -fsS --cacert "$work/nginx/cert.pem" --resolve "social.example.org:$https_port:127.0.0.1" \
        "https://social.example.org:$https_port/.well-known/webfinger?resource=acct:alice@$DOMAIN" \
        | grep -q '"subject":"acct:alice@' || { echo "no WebFinger answer through nginx" >&2; exit 1; }
    test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/x")" = 301
    # A 5 MB upload reaches the node through the compose form's location
    # (which answers 403: no session), where any other path stops at 413.
    head -c 5000000 /dev/zero > "$work/upload.bin"
    upload() {
        curl -s -o /dev/null -w '%{http_code}' --cacert "$work/nginx/cert.pem" \
            --resolve "social.example.org:$https_port:127.0.0.1" \
            -F "attach=@$work/upload.bin" "https://social.example.org:$https_port$1"
    }
    test "$(upload /compose)" = 403 || { echo "an upload to /compose did not reach the node" >&2; exit 1; }
    test "$(upload /actions/post)" = 413 || { echo "nginx let a large body through to /actions/post" >&2; exit 1; }
    echo "the node answers through nginx over TLS; plain http is redirected; uploads reach it"
fi
echo "==> docs/deploy.md followed: ok"
