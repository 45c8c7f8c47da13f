#!/usr/bin/env bash
# End-to-end added latency, side by side in one run: plain reqwest and hyper
# clients, the same clients enforced in-process, and the plain client through a
# Squid allowlist proxy, against nginx on 127.0.0.1 (see benches/end_to_end.rs).
#
# Usage (from anywhere): benches/end_to_end.sh [ROUNDS] [PER_ROUND]
# Installs nginx-light and squid (Debian) if missing; listens on 127.0.0.1 only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export E2E_ROUNDS=${1:-5} E2E_PER=${2:-2000}
if ! command -v squid >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq squid nginx-light >/dev/null
fi
(cd "$root" && cargo bench --all-features --bench end_to_end --no-run --quiet)
printf '127.0.0.1 api.example.com\n' > /tmp/egress-e2e-hosts
nginx -c "$here/end_to_end/nginx.conf"
squid -f "$here/end_to_end/squid.conf" -N >/tmp/egress-e2e-squid.out 2>&1 &
squid_pid=$!
trap 'kill $squid_pid 2>/dev/null || true; nginx -c "$here/end_to_end/nginx.conf" -s stop 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  if (exec 3<>/dev/tcp/127.0.0.1/13128) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/18080) 2>/dev/null; then break; fi
  sleep 0.2
done
cd "$root" && cargo bench --all-features --bench end_to_end --quiet
