#!/usr/bin/env bash
# Throwaway MariaDB server for the database and end-to-end tests.
#
#   scripts/mariadb.sh start DIR   initialise DIR/data, start mariadbd on a free
#                                  127.0.0.1 port and DIR/mysqld.sock, create the
#                                  user billing (password billing-test, all
#                                  privileges: tests create and drop their own
#                                  billing_t_* databases), write DIR/env
#   scripts/mariadb.sh stop DIR    shut it down (idempotent)
#
# DIR/env holds BILLING_TEST_MYSQL_URL, BILLING_TEST_MYSQL_PASSWORD and
# BILLING_TEST_MYSQL_SOCKET; `source DIR/env` before running the tests.
# MARIADB_BUFFER_POOL sets InnoDB's buffer pool (default 256M; the benchmark
# gives it room for a night's events).
# Nothing outside DIR is read or written: every server and client call uses
# --no-defaults so /etc/mysql and ~/.my.cnf cannot change the set-up.
set -euo pipefail

readonly test_user=billing
readonly test_password=billing-test
readonly startup_wait_s=60
readonly shutdown_wait_s=30
readonly start_attempts_max=3

die() {
  echo "mariadb.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

# With socket authentication the MariaDB account `root`, and one named after
# the OS user that ran mariadb-install-db, need no password over the socket.
admin_user() { id -un; }

admin_client() {
  local dir=$1
  shift
  mariadb-admin --no-defaults --socket="$dir/mysqld.sock" --user="$(admin_user)" "$@"
}

server_pid() {
  local dir=$1 pid
  [[ -s $dir/mysqld.pid ]] || return 1
  pid=$(<"$dir/mysqld.pid")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# A port that nothing on 127.0.0.1 listens on, picked from a random start below
# the kernel's ephemeral range (32768+) so outgoing connections do not take it
# between this check and mariadbd's bind.
free_port() {
  python3 - <<'EOF'
import random, socket
start = random.randrange(20000, 32000)
for offset in range(2000):
    port = 20000 + (start - 20000 + offset) % 12000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
else:
    raise SystemExit("no free port found")
EOF
}

print_error_log() {
  local dir=$1
  echo "----- $dir/error.log (last 50 lines) -----" >&2
  tail -n 50 "$dir/error.log" >&2 2>/dev/null || echo "(no error log)" >&2
  echo "-----" >&2
}

# Starts mariadbd on PORT and waits until it answers; returns 1 if it died
# (for example because the port was taken after all), dies on a timeout.
launch() {
  local dir=$1 port=$2 pid i
  local -a user_opt=()
  [[ $(id -u) -eq 0 ]] && user_opt=(--user=root)
  : >"$dir/error.log"
  # Output goes to a file so that the server never holds the caller's stdout
  # open (a command substitution or CTest would wait for it forever).
  mariadbd --no-defaults "${user_opt[@]}" \
    --datadir="$dir/data" \
    --socket="$dir/mysqld.sock" \
    --port="$port" \
    --bind-address=127.0.0.1 \
    --pid-file="$dir/mysqld.pid" \
    --log-error="$dir/error.log" \
    --skip-name-resolve \
    --innodb-buffer-pool-size="${MARIADB_BUFFER_POOL:-256M}" \
    --innodb-flush-log-at-trx-commit=2 \
    --local-infile=1 \
    --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_general_ci \
    </dev/null >>"$dir/mariadbd.out" 2>&1 &
  pid=$!
  for ((i = 0; i < startup_wait_s * 4; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      return 1
    fi
    if admin_client "$dir" --connect-timeout=2 ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.25
  done
  print_error_log "$dir"
  kill -TERM "$pid" 2>/dev/null || true
  die "mariadbd did not answer within ${startup_wait_s}s"
}

start() {
  local dir=$1 port attempt
  command -v mariadbd >/dev/null || die "mariadbd not found; run scripts/setup.sh"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # A Unix socket path is limited to 107 bytes.
  ((${#dir} + 12 <= 107)) || die "path too long for a Unix socket: $dir/mysqld.sock"
  if server_pid "$dir" >/dev/null; then
    die "a server already runs in $dir (pid $(server_pid "$dir"))"
  fi

  if [[ ! -d $dir/data/mysql ]]; then
    local -a user_opt=()
    [[ $(id -u) -eq 0 ]] && user_opt=(--user=root)
    if ! mariadb-install-db --no-defaults "${user_opt[@]}" \
      --datadir="$dir/data" \
      --auth-root-authentication-method=socket \
      --auth-root-socket-user="$(admin_user)" \
      --skip-test-db \
      --skip-name-resolve >"$dir/install.log" 2>&1; then
      cat "$dir/install.log" >&2
      die "mariadb-install-db failed"
    fi
  fi

  for ((attempt = 1; ; attempt++)); do
    port=$(free_port)
    launch "$dir" "$port" && break
    if grep -q 'Bind on TCP/IP port' "$dir/error.log" 2>/dev/null && ((attempt < start_attempts_max)); then
      echo "mariadb.sh: port $port was taken, trying another" >&2
      continue
    fi
    print_error_log "$dir"
    die "mariadbd exited during start-up"
  done

  mariadb --no-defaults --socket="$dir/mysqld.sock" --user="$(admin_user)" <<EOF
CREATE OR REPLACE USER '$test_user'@'127.0.0.1' IDENTIFIED BY '$test_password';
CREATE OR REPLACE USER '$test_user'@'localhost' IDENTIFIED BY '$test_password';
GRANT ALL PRIVILEGES ON *.* TO '$test_user'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO '$test_user'@'localhost';
EOF

  {
    printf 'export BILLING_TEST_MYSQL_URL=%q\n' "mysql://$test_user@127.0.0.1:$port/"
    printf 'export BILLING_TEST_MYSQL_PASSWORD=%q\n' "$test_password"
    printf 'export BILLING_TEST_MYSQL_SOCKET=%q\n' "$dir/mysqld.sock"
  } >"$dir/env"
  echo "MariaDB $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$port, socket $dir/mysqld.sock; env in $dir/env"
}

stop() {
  local dir=$1 pid i
  [[ -d $dir ]] || return 0
  pid=$(server_pid "$dir") || return 0
  if ! admin_client "$dir" --shutdown-timeout="$shutdown_wait_s" shutdown >/dev/null 2>&1; then
    kill -TERM "$pid" 2>/dev/null || true
  fi
  for ((i = 0; i < shutdown_wait_s * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  echo "mariadb.sh: mariadbd (pid $pid) ignored shutdown; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

[[ $# -eq 2 ]] || usage
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
