# adsmith stack helpers, sourced by scripts/quickstart, scripts/test and scripts/bench.
# A "stack" is a directory holding a private PostgreSQL cluster, the config,
# the object store, logs and pid files; adsmith-api, adsmith-generator,
# adsmith-campaigner and nginx run against it. As root, services run as the unprivileged user
# "adsmith" (created if missing); otherwise as the calling user.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build"
# The installed tree the stack helpers run programs from (build_install
# fills it); use_prefix points them at another one, a sanitizer build's.
PREFIX="$BUILD/prefix"
# Words put before each daemon's program by start_daemon, after the switch
# to the service user: empty, or a launcher that execs the program (so the
# pid stays the program's), such as "setarch x86_64 -R" or scripts/sandbox.
DAEMON_WRAP=""

die() { echo "error: $*" >&2; exit 1; }
say() { echo "==> $*"; }

run_user() {
    if [ "$(id -u)" -eq 0 ]; then echo adsmith; else id -un; fi
}

ensure_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    id adsmith >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin adsmith
}

# Runs a command as the service user (exec, so $! is the program's pid).
as_user() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=adsmith --regid=adsmith --init-groups -- "$@"
    else
        "$@"
    fi
}

# use_prefix DIR: the stack helpers run the programs installed under DIR.
use_prefix() {
    [ -x "$1/sbin/adsmith-api" ] && [ -x "$1/bin/adsmithctl" ] || die "no adsmith installed under $1"
    PREFIX=$(cd "$1" && pwd)
}

pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] || die "PostgreSQL server binaries not found (run scripts/deps)"
    echo "$d"
}

# Configures (once per tree), builds and installs into build/prefix.
build_install() {
    cd "$ROOT"
    if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
        say "autoreconf"
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
    fi
    mkdir -p "$BUILD"
    cd "$BUILD"
    if [ ! -f Makefile ] || [ "$ROOT/configure" -nt Makefile ]; then
        say "configure"
        "$ROOT/configure" --prefix="$PREFIX" --with-systemdsystemunitdir="$PREFIX/lib/systemd/system" -q
    fi
    say "make"
    make -j"$(nproc)" >/dev/null || make
    make install >/dev/null
    cd "$ROOT"
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# render_template IN OUT VAR PORT: fills the nginx/config templates for a
# stack. nginx's per-address rate limits come from ADSMITH_RATE_CAMPAIGN,
# ADSMITH_RATE_ASSETS and ADSMITH_RATE_STATUS (limit_req rates, e.g. 10r/m).
# The nginx allow lines of GET /metrics: loopback, and the metrics_allow of
# the stack's config (or ADSMITH_METRICS_ALLOW), each item checked.
metrics_allow_lines() {
    local list a out="allow 127.0.0.1; allow ::1;"
    list=${ADSMITH_METRICS_ALLOW-$(sed -n 's/^metrics_allow *= *//p' "$1/adsmith.conf" 2>/dev/null | tail -n 1)}
    for a in ${list//,/ }; do
        [[ "$a" =~ ^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$ ]] || die "metrics_allow: $a is not an address or CIDR"
        out="$out allow $a;"
    done
    echo "$out"
}

render_template() {
    sed -e "s|@METRICS_ALLOW@|$(metrics_allow_lines "$3")|g" -e "s|@SOCKET@|$3/run/api.sock|g" -e "s|@CAMPAIGN_SOCKET@|$3/run/campaign.sock|g" \
        -e "s|@STORAGE_ROOT@|$3/storage|g" \
        -e "s|@ASSETS_BUCKET@|adsmith-assets|g" -e "s|@LISTEN_ADDR@|127.0.0.1:$4|g" \
        -e "s|@localstatedir@/log/adsmith|$3/log|g" -e "s|@NGINX_INCLUDE_DIR@|$3/nginx|g" \
        -e "s|@RATE_CAMPAIGN@|${ADSMITH_RATE_CAMPAIGN:-10r/m}|g" -e "s|@RATE_ASSETS@|${ADSMITH_RATE_ASSETS:-20r/m}|g" \
        -e "s|@RATE_STATUS@|${ADSMITH_RATE_STATUS:-100r/m}|g" -e "s|@RATE_PRESIGN@|${ADSMITH_RATE_PRESIGN:-30r/m}|g" \
        -e "s|@pkgdatadir@|$PREFIX/share/adsmith|g" "$1" > "$2"
}

# stack_init VAR PORT [WORKERS] [CAMPAIGN_WORKERS]: creates what is missing
# (idempotent; an existing adsmith.conf is kept as it is).
stack_init() {
    local var=$1 port=$2 workers=${3:-4} campaign_workers=${4:-16} pgbin
    pgbin=$(pg_bin)
    ensure_user
    # Logs hold request lines and errors: for the service user and its group
    # only. Files made from here on (logs, by this shell, the daemons and
    # nginx) get no permission for others.
    umask 027
    mkdir -p "$var"/run "$var"/log "$var"/storage "$var"/nginx/tmp "$var"/nginx/extra
    chmod 750 "$var/log"
    chmod o-rwx "$var"/log/* 2>/dev/null || true
    cp /etc/nginx/fastcgi_params "$var/nginx/fastcgi_params"
    if [ ! -f "$var/adsmith.conf" ]; then
        cat > "$var/adsmith.conf" <<CONF
# Written by the adsmith scripts for the stack in $var.
database_url = postgresql:///adsmith?host=$var/run&user=adsmith
listen = $var/run/api.sock
workers = $workers
campaign_listen = $var/run/campaign.sock
campaign_workers = $campaign_workers
auth = api_key
storage = local
storage_root = $var/storage
public_base_url = http://127.0.0.1:$port
uploads_bucket = adsmith-uploads
assets_bucket = adsmith-assets
local_signing_key_id = adsmith-local
local_signing_secret = $(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
s3_region = us-east-1
text_provider = builtin
vision_provider = builtin
video_provider = none
image_provider = builtin
log_level = info
data_dir = $PREFIX/share/adsmith
poll_interval = 5
CONF
        chmod 600 "$var/adsmith.conf"
    fi
    # A config these scripts wrote before the local store had signing keys
    # of its own kept them in s3_*, where storage = s3 would take them for
    # AWS credentials: they move to local_signing_* (unless the file was
    # switched to storage = s3 by hand, where they may be real ones).
    if head -n 1 "$var/adsmith.conf" | grep -q '^# Written by the adsmith scripts' \
        && grep -q '^storage = local$' "$var/adsmith.conf" && ! grep -q '^local_signing_secret' "$var/adsmith.conf" \
        && grep -q '^s3_secret_access_key' "$var/adsmith.conf"; then
        sed -i 's/^s3_access_key_id = /local_signing_key_id = /; s/^s3_secret_access_key = /local_signing_secret = /' \
            "$var/adsmith.conf"
        say "moved the local store's signing keys from s3_* to local_signing_* in $var/adsmith.conf"
    fi
    render_template "$ROOT/nginx/adsmith-http.conf.in" "$var/nginx/adsmith-http.conf" "$var" "$port"
    render_template "$ROOT/nginx/adsmith-locations.conf.in" "$var/nginx/adsmith-locations.conf" "$var" "$port"
    cat > "$var/nginx/nginx.conf" <<NGX
$( [ "$(id -u)" -eq 0 ] && echo "user adsmith;" )
worker_processes 1;
pid $var/run/nginx.pid;
error_log $var/log/nginx-error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    client_body_temp_path $var/nginx/tmp/body;
    fastcgi_temp_path $var/nginx/tmp/fastcgi;
    proxy_temp_path $var/nginx/tmp/proxy;
    scgi_temp_path $var/nginx/tmp/scgi;
    uwsgi_temp_path $var/nginx/tmp/uwsgi;
    access_log off;
    include $var/nginx/adsmith-http.conf;
    server {
        listen 127.0.0.1:$port;
        server_name _;
        include $var/nginx/adsmith-locations.conf;
        include $var/nginx/extra/*.conf;
    }
}
NGX
    if [ "$(id -u)" -eq 0 ]; then chown -R adsmith: "$var"; fi
    chmod 700 "$var/run"
    if [ ! -f "$var/pg/PG_VERSION" ]; then
        say "initdb $var/pg"
        as_user "$pgbin/initdb" -D "$var/pg" -U adsmith -A trust -E UTF8 --no-instructions >"$var/log/initdb.log" 2>&1 \
            || { cat "$var/log/initdb.log"; die "initdb failed"; }
    fi
}

pg_start() {
    local var=$1 extra=${2:-}
    if as_user "$(pg_bin)/pg_ctl" -D "$var/pg" status >/dev/null 2>&1; then return 0; fi
    as_user "$(pg_bin)/pg_ctl" -D "$var/pg" -l "$var/log/postgres.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$var/run' -c autovacuum_naptime=10s $extra" start >/dev/null \
        || { tail -20 "$var/log/postgres.log"; die "PostgreSQL did not start"; }
}

pg_stop() {
    local var=$1
    [ -f "$var/pg/postmaster.pid" ] || return 0
    as_user "$(pg_bin)/pg_ctl" -D "$var/pg" -m fast -w stop >/dev/null 2>&1 || true
}

psql_q() {
    local var=$1; shift
    as_user psql -X -q -v ON_ERROR_STOP=1 -h "$var/run" -U adsmith -d adsmith "$@"
}

db_prepare() {
    local var=$1
    if ! as_user psql -X -h "$var/run" -U adsmith -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='adsmith'" | grep -q 1; then
        as_user "$(pg_bin)/createdb" -h "$var/run" -U adsmith adsmith
    fi
    as_user env ADSMITH_CONFIG="$var/adsmith.conf" "$PREFIX/bin/adsmithctl" migrate >"$var/log/migrate.log" 2>&1 \
        || { cat "$var/log/migrate.log"; die "migration failed"; }
}

# alive PID: 0 when the process exists and is not a zombie. kill -0 alone
# succeeds on a zombie, which a container whose PID 1 does not reap keeps
# forever: such a service would never be restarted.
alive() {
    local state
    [ -n "$1" ] || return 1
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# start_daemon VAR NAME PROGRAM: runs it in the background with a pid file.
start_daemon() {
    local var=$1 name=$2 prog=$3
    if [ -f "$var/run/$name.pid" ] && alive "$(cat "$var/run/$name.pid")"; then return 0; fi
    # No function or subshell in between: $! must be the program itself.
    # As root, like the units: no capabilities, none to regain.
    # shellcheck disable=SC2086
    if [ "$(id -u)" -eq 0 ]; then
        ADSMITH_CONFIG="$var/adsmith.conf" setpriv --reuid=adsmith --regid=adsmith --init-groups \
            --no-new-privs --bounding-set=-all --inh-caps=-all -- \
            $DAEMON_WRAP "$prog" >>"$var/log/$name.log" 2>&1 </dev/null &
    else
        ADSMITH_CONFIG="$var/adsmith.conf" setpriv --no-new-privs -- \
            $DAEMON_WRAP "$prog" >>"$var/log/$name.log" 2>&1 </dev/null &
    fi
    echo $! > "$var/run/$name.pid"
}

stop_daemon() {
    local var=$1 name=$2 pid i
    [ -f "$var/run/$name.pid" ] || return 0
    pid=$(cat "$var/run/$name.pid")
    if kill -TERM "$pid" 2>/dev/null; then
        for i in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$var/run/$name.pid"
}

nginx_start() {
    local var=$1
    if [ -f "$var/run/nginx.pid" ] && alive "$(cat "$var/run/nginx.pid")"; then
        nginx -c "$var/nginx/nginx.conf" -s reload 2>>"$var/log/nginx-error.log"
        return 0
    fi
    nginx -t -q -c "$var/nginx/nginx.conf" 2>"$var/log/nginx-check.log" || { cat "$var/log/nginx-check.log"; die "nginx config invalid"; }
    nginx -c "$var/nginx/nginx.conf" 2>>"$var/log/nginx-error.log" || die "nginx did not start"
}

nginx_stop() {
    local var=$1 pid i
    [ -f "$var/run/nginx.pid" ] || return 0
    pid=$(cat "$var/run/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
}

wait_http() {
    local url=$1 i
    for i in $(seq 1 100); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# api_wait VAR: waits for both of adsmith-api's sockets (the general and the
# campaign pool's).
api_wait() {
    local var=$1 i
    for i in $(seq 1 50); do
        [ -S "$var/run/api.sock" ] && [ -S "$var/run/campaign.sock" ] && return 0
        sleep 0.1
    done
    return 1
}

# stack_start VAR PORT [WORKERS] [PG_EXTRA] [CAMPAIGN_WORKERS]
stack_start() {
    local var=$1 port=$2
    stack_init "$var" "$port" "${3:-4}" "${5:-16}"
    pg_start "$var" "${4:-}"
    db_prepare "$var"
    start_daemon "$var" api "$PREFIX/sbin/adsmith-api"
    start_daemon "$var" generator "$PREFIX/sbin/adsmith-generator"
    start_daemon "$var" campaigner "$PREFIX/sbin/adsmith-campaigner"
    api_wait "$var" || true
    nginx_start "$var"
    wait_http "http://127.0.0.1:$port/api/health" || { tail -20 "$var/log/api.log"; die "API did not answer"; }
}

stack_stop() {
    local var=$1
    nginx_stop "$var"
    stop_daemon "$var" generator
    stop_daemon "$var" campaigner
    stop_daemon "$var" api
    pg_stop "$var"
}

# create_key VAR USER: prints a new API key for USER.
create_key() {
    ADSMITH_CONFIG="$1/adsmith.conf" as_user "$PREFIX/bin/adsmithctl" apikey create --user "$2" 2>/dev/null
}
