#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, seeded from
# tests/fixtures. Needs the nightly toolchain; installs cargo-fuzz if missing.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# With FUZZ_RUNS=N, each target instead runs N inputs from a fixed seed
# (FUZZ_SEED, default 1): on a fresh corpus the run is the same every time,
# which is what CI needs. Exploratory runs use SECONDS.
#
# Crashes land in fuzz/artifacts/TARGET/; reproduce one with
#   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-…
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
all=(jrd xrd resource magic_envelope magic_key atom poco_json poco_xml websub hub_request)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

fx=../tests/fixtures
seed() {
    local t=$1 dir=corpus/$1
    mkdir -p "$dir"
    case $t in
        jrd) cp $fx/wire/goldfinger/*.json $fx/vectors/webfinger/derived/*.json $fx/vectors/webfinger/*.json "$dir"/ ;;
        xrd) cp $fx/wire/goldfinger/*.xml $fx/wire/pleroma/host-meta-*.xml $fx/wire/pleroma/webfinger-*.xml \
                 $fx/wire/gnusocial/static-*.xml $fx/vectors/webfinger/derived/*.xml "$dir"/ ;;
        resource) printf 'acct:bob@example.com' > "$dir/a"; printf 'resource=acct%%3Abob%%40example.com&rel=salmon' > "$dir/b"
                  printf 'https://example.com/@bob' > "$dir/c"; printf 'mailto:bob@B\xc3\xbccher.example' > "$dir/d" ;;
        magic_envelope) cp -r $fx/vectors/magicsig/envelopes/*/* $fx/wire/*/salmon-*.xml $fx/wire/vectors/derived-salmon-*.xml "$dir"/ ;;
        magic_key) grep -ho 'RSA\.[A-Za-z0-9_=.-]*' $fx/vectors/magicsig/keys/keys.json $fx/wire/vectors/magic-keys.json \
                       | head -40 | split -l 1 - "$dir/key-"; cp $fx/vectors/magicsig/keys/*.pem "$dir"/ ;;
        atom) cp $fx/wire/*/*.atom $fx/wire/pleroma/entry-*.xml $fx/wire/gnusocial/entry-*.xml \
                 $fx/vectors/activitystreams/*.xml $fx/vectors/activitystreams/ostatus-real/*.xml "$dir"/ ;;
        poco_json) cp $fx/vectors/poco/*.json "$dir"/ ;;
        poco_xml) cp $fx/vectors/poco/*.xml $fx/wire/pleroma/poco-author-*.xml "$dir"/ ;;
        websub) printf '<https://hub.example/>; rel="hub", <https://e.example/feed>; rel="self"' > "$dir/link"
                printf 'hub.mode=subscribe&hub.topic=https%%3A%%2F%%2Fe.example%%2Ffeed&hub.challenge=x' > "$dir/query"
                cp $fx/wire/pleroma/feed-mastodon-note-cw.atom "$dir"/ ;;
        hub_request)
                # Mastodon's ostatus2 subscription, a WebSub one, a PuSH 0.3 publish, a fat ping's query.
                printf 'hub.mode=subscribe&hub.callback=https%%3A%%2F%%2Fm.example%%2Fapi%%2Fpush%%2F1&hub.verify=async&hub.lease_seconds=&hub.secret=s3&hub.topic=https%%3A%%2F%%2Fe.example%%2Ffeed' > "$dir/mastodon"
                printf 'hub.mode=subscribe&hub.topic=https%%3A%%2F%%2Fe.example%%2Ffeed&hub.callback=https%%3A%%2F%%2Fs.example%%2Fcb%%3Fx%%3D1&hub.lease_seconds=86400' > "$dir/websub"
                printf 'hub.mode=publish&hub.url=https%%3A%%2F%%2Fe.example%%2Ffeed&hub.url=https%%3A%%2F%%2Fe.example%%2Fother' > "$dir/publish"
                printf 'hub.mode=unsubscribe&hub.verify=sync&hub.verify_token=t&hub.topic=http%%3A%%2F%%2Fe.example%%2F%%7Euser&hub.callback=http%%3A%%2F%%2Fs.example%%2F' > "$dir/unsub"
                printf 'hub.mode=publish&hub.topic=https%%3A%%2F%%2Fe.example%%2Ffeed' > "$dir/fat" ;;
    esac
}

status=0
for t in "${targets[@]}"; do
    seed "$t"
    if [ -n "${FUZZ_RUNS:-}" ]; then
        limit=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
        echo "==> fuzz $t for $FUZZ_RUNS runs from seed ${FUZZ_SEED:-1}"
    else
        limit=(-max_total_time="$secs")
        echo "==> fuzz $t for ${secs}s"
    fi
    start=$(date +%s)
    if ! cargo +nightly fuzz run "$t" "corpus/$t" -- "${limit[@]}" -rss_limit_mb=2048 -max_len=65536 >"log-$t.txt" 2>&1; then
        echo "!!! $t failed; see fuzz/log-$t.txt and fuzz/artifacts/$t/"
        tail -30 "log-$t.txt"
        status=1
    fi
    runs=$(grep -o 'Done [0-9]* runs' "log-$t.txt" | tail -1 || true)
    echo "    $t: ${runs:-no summary} in $(( $(date +%s) - start ))s"
done
exit $status
