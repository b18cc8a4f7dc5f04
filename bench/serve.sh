#!/usr/bin/env bash
# Starts mailroom for the side-by-side benchmark (BENCHMARKS.md): a fresh data
# dir, domain example.test, mailbox user@example.test / benchpass123 with its
# limits lifted (every check still runs on every message), STARTTLS on
# 127.0.0.1:2587, implicit TLS on 127.0.0.1:2465, pprof on 127.0.0.1:2880.
# Prints the server's PID; stop it with: kill "$(cat "$DIR/pid")".
# With PG_DSN set, the store (and every body) is in that PostgreSQL database
# instead of SQLite (BENCHMARKS.md, "On PostgreSQL").
set -euo pipefail
export PATH=$PATH:/usr/local/go/bin
DIR=${DIR:-/tmp/mailroom-bench}
cd "$(dirname "$0")/.."
rm -rf "$DIR"; mkdir -p "$DIR"
go build -o "$DIR/mailroom" ./cmd/mailroom
STORE=""
if [ -n "${PG_DSN:-}" ]; then
	STORE=$(printf '[store]\ndriver = "postgres"\ndsn = "%s"' "$PG_DSN")
fi
cat > "$DIR/mailroom.toml" <<TOML
hostname = "example.test"
[submission]
listen = "127.0.0.1:2587"
listen_tls = "127.0.0.1:2465"
max_connections_per_address = 0
connection_rate_per_address = 0
[http]
listen = "127.0.0.1:2880"
pprof = true
[log]
level = "warn"
$STORE
[limits]
concurrent = 64
messages_per_minute = 100000000
recipients_per_day = 100000000
login_failures_per_address = 1000000
TOML
"$DIR/mailroom" domain add example.test --config "$DIR/mailroom.toml" >/dev/null
echo benchpass123 | "$DIR/mailroom" mailbox add user@example.test --password-stdin --config "$DIR/mailroom.toml" >/dev/null
setsid "$DIR/mailroom" serve --config "$DIR/mailroom.toml" >"$DIR/serve.log" 2>&1 < /dev/null &
echo $! > "$DIR/pid"
for _ in $(seq 50); do
	if (exec 3<>/dev/tcp/127.0.0.1/2587) 2>/dev/null; then break; fi
	sleep 0.1
done
cat "$DIR/pid"
