# Shared by the scripts that start memcached and corecached one at a time (sourced, not run):
# builds the release binaries unless SKIP_BUILD is set, checks for memcached, and provides
# free_port, wait_port, start_server NAME MiB (sets SERVER_PID and PORT), stop_server and a
# cleanup trap. Expects SERVER_CPU and MEMCACHED to be set.

CORECACHED=target/release/corecached
CLIENT=target/release/corecached-hitratio

if [[ -z "${SKIP_BUILD:-}" ]]; then
    cargo build --release --bin corecached --bin corecached-hitratio >&2
fi
[[ -x $MEMCACHED ]] || { echo "no memcached at $MEMCACHED" >&2; exit 1; }

# memcached refuses to run as root without -u.
MC_USER=()
[[ $(id -u) -eq 0 ]] && MC_USER=(-u root)

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 40000))
}

# Waits (at most 10 s) until something accepts connections on 127.0.0.1:$1.
wait_port() {
    local i
    for i in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}

# Starts a server ($1 = memcached | corecached, $2 = MiB); sets SERVER_PID and PORT.
start_server() {
    local mem=$2
    local try
    case $1 in
    memcached)
        for try in 1 2 3; do
            PORT=$(free_port)
            taskset -c "$SERVER_CPU" "$MEMCACHED" "${MC_USER[@]}" -l 127.0.0.1 -p "$PORT" -U 0 -t 1 \
                -m "$mem" >"$WORK/memcached.log" 2>&1 &
            SERVER_PID=$!
            if wait_port "$PORT"; then return 0; fi
            stop_server
        done
        ;;
    corecached)
        taskset -c "$SERVER_CPU" "$CORECACHED" -l 127.0.0.1 -p 0 --threads 1 -m "$mem" -v \
            >"$WORK/corecached.log" 2>&1 &
        SERVER_PID=$!
        local i
        for i in $(seq 100); do
            PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/corecached.log" | head -n1)
            [[ -n $PORT ]] && wait_port "$PORT" && return 0
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        ;;
    esac
    echo "could not start $1:" >&2
    cat "$WORK/$1.log" >&2 || true
    exit 1
}

