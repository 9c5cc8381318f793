#!/usr/bin/env bash
# Install an addon WITH demo data into a fresh database, run its at_install and
# post_install tests, drop the database, then summarise the log.
# Called by `make test`; every setting comes from the environment (see Makefile).
# The last line of output is the summary's "N passed, N failed[, N skipped]".
set -euo pipefail

cd "$(dirname "$0")/.."
REPO_ROOT=$PWD

PYTHON=${PYTHON:-python3}
ADDON=${ADDON:-prm_auto_status}
TEST_DB=${TEST_DB:-prm_test}
TEST_TAGS=${TEST_TAGS:-/$ADDON}
EXTRA_ADDONS_PATH=${EXTRA_ADDONS_PATH:-}
ADDONS_PATH=${ADDONS_PATH:-}
TEST_HTTP_PORT=${TEST_HTTP_PORT:-}
TEST_LOG=${TEST_LOG:-.tmp/test-$TEST_DB.log}
TEST_SUMMARY_FILE=${TEST_SUMMARY_FILE:-.tmp/test-summary.txt}
TEST_TIMEOUT=${TEST_TIMEOUT:-3600}
SKIP_BROWSER_PRECHECK=${SKIP_BROWSER_PRECHECK:-0}
ODOO_ARGS=${ODOO_ARGS:-}

die() {
    echo "make test: ERROR: $*" >&2
    exit 2
}

# ---------------------------------------------------------------- preflight
"$PYTHON" - <<'EOF' || die "Odoo 18 is not importable by '$PYTHON'. Odoo 18.0 is a prerequisite of this repository (it is not installed by it)."
import odoo.release
assert odoo.release.version_info[0] == 18, odoo.release.version
EOF

ODOO_DIR=$("$PYTHON" -c 'import odoo, os; print(os.path.dirname(odoo.__file__))')
if [ -z "$ADDONS_PATH" ]; then
    ADDONS_PATH="$ODOO_DIR/addons,$REPO_ROOT${EXTRA_ADDONS_PATH:+,$EXTRA_ADDONS_PATH}"
fi
found=
IFS=, read -ra _paths <<<"$ADDONS_PATH"
for p in "${_paths[@]}"; do
    if [ -f "$p/$ADDON/__manifest__.py" ]; then found=$p/$ADDON; break; fi
done
[ -n "$found" ] || die "addon '$ADDON' not found in addons path $ADDONS_PATH"

if [ "$SKIP_BROWSER_PRECHECK" = 1 ]; then
    echo "make test: WARNING: SKIP_BROWSER_PRECHECK=1: Chromium/websocket-client not checked" \
        "(a skipped browser test still fails the run)" >&2
else
    # Odoo 18 (odoo/tests/common.py _find_executable) looks these names up in
    # PATH and *skips* browser tests when none is found.
    chrome=
    for name in google-chrome chromium chromium-browser google-chrome-stable; do
        if chrome=$(command -v "$name"); then break; fi
        chrome=
    done
    [ -n "$chrome" ] || die "no Chrome/Chromium in PATH (Odoo looks for google-chrome," \
        "chromium, chromium-browser, google-chrome-stable); browser tests would be" \
        "SKIPPED. Install it: apt-get install -y chromium"
    "$chrome" --version >/dev/null 2>&1 || die "'$chrome --version' fails; browser tests would be skipped"
    "$PYTHON" -c 'from websocket import create_connection' 2>/dev/null ||
        die "python package websocket-client is not importable by '$PYTHON';" \
            "browser tests would be SKIPPED. Install it: $PYTHON -m pip install websocket-client"
fi

command -v createdb >/dev/null && command -v dropdb >/dev/null ||
    die "PostgreSQL client tools (createdb, dropdb) not found"
psql -d postgres -Atqc 'select 1' >/dev/null ||
    die "cannot connect to PostgreSQL (local socket, current user $(id -un))"
# No port given: take one the system says is free on loopback, so that a
# server left running on some usual port (18069, 8069...) cannot stop the run.
# A port given explicitly must be free.
if [ -z "$TEST_HTTP_PORT" ]; then
    TEST_HTTP_PORT=$("$PYTHON" -c 'import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])') || die "could not find a free port on 127.0.0.1"
else
    [[ "$TEST_HTTP_PORT" =~ ^[0-9]+$ ]] && ((10#$TEST_HTTP_PORT >= 1 && 10#$TEST_HTTP_PORT <= 65535)) ||
        die "TEST_HTTP_PORT='$TEST_HTTP_PORT' is not a port number (1 to 65535);" \
            "give one or leave it unset to take a free one"
    TEST_HTTP_PORT=$((10#$TEST_HTTP_PORT)) # 080 is port 80, as Odoo reads it
    "$PYTHON" - "$TEST_HTTP_PORT" <<'EOF' || die "port 127.0.0.1:$TEST_HTTP_PORT is in use; set another TEST_HTTP_PORT= or leave it unset to take a free one"
import socket, sys
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
EOF
fi

# ---------------------------------------------------------------- run
mkdir -p "$(dirname "$TEST_LOG")" "$(dirname "$TEST_SUMMARY_FILE")"
rm -f "$TEST_SUMMARY_FILE"
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/odoo-test.XXXXXX")

drop_db() {
    dropdb --if-exists --force "$TEST_DB" 2>/dev/null ||
        echo "make test: WARNING: could not drop database $TEST_DB" >&2
}
cleanup() {
    drop_db
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

drop_db
createdb "$TEST_DB"

# An empty config file so that no ~/.odoorc (or $ODOO_RC) can change the run,
# e.g. turn demo data off.
printf '[options]\n' >"$WORK_DIR/odoo.conf"

# Demo data: Odoo 18 loads it unless --without-demo is given. Do NOT pass
# --without-demo=False: the option takes a string and any non-empty value,
# 'False' included, DISABLES demo data.
# --test-tags /ADDON selects tests tagged 'standard' of ADDON; Odoo runs them
# at_install (right after ADDON is installed) and post_install (after all
# modules are loaded).
cmd=(
    timeout --foreground -k 60 "$TEST_TIMEOUT"
    "$PYTHON" -m odoo
    --config="$WORK_DIR/odoo.conf"
    --database="$TEST_DB"
    --addons-path="$ADDONS_PATH"
    --data-dir="$WORK_DIR/data"
    --init="$ADDON"
    --test-enable
    --test-tags="$TEST_TAGS"
    --stop-after-init
    --workers=0
    --max-cron-threads=0
    --http-interface=127.0.0.1
    --http-port="$TEST_HTTP_PORT"
    --log-level=info
)
# shellcheck disable=SC2206 # ODOO_ARGS is a list of extra options on purpose
cmd+=($ODOO_ARGS)

echo "make test: ${cmd[*]}"
echo "make test: log in $TEST_LOG"
set +e
"${cmd[@]}" 2>&1 | tee "$TEST_LOG"
odoo_rc=${PIPESTATUS[0]}
set -e
echo "make test: Odoo exited with status $odoo_rc"
[ "$odoo_rc" != 124 ] || echo "make test: ERROR: Odoo timed out after ${TEST_TIMEOUT}s" >&2

cleanup
trap - EXIT
"$PYTHON" scripts/odoo_test_summary.py --odoo-exit-code "$odoo_rc" \
    --summary-file "$TEST_SUMMARY_FILE" "$TEST_LOG"
