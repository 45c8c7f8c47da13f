#!/usr/bin/env bash
# Seeds the fuzz corpora from testdata/ (policies, invalid policies, case URLs).
# Usage: fuzz/seed.sh   (from anywhere; writes fuzz/corpus/<target>/)
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/policy_load corpus/destination corpus/differential corpus/admission corpus/authority
i=0
for f in ../testdata/policies/* ../testdata/invalid/* ../examples/policy.toml; do
  case "$f" in
    *.toml) sel='\x00' ;;
    *.json) sel='\x01' ;;
    *.yaml|*.yml) sel='\x02' ;;
    *) continue ;;
  esac
  { printf "$sel"; cat "$f"; } > "corpus/policy_load/seed-$i"
  i=$((i + 1))
done
python3 - <<'PY'
import pathlib, tomllib
out = pathlib.Path("corpus/destination")
n = 0
for case_file in sorted(pathlib.Path("../testdata/cases").glob("*.toml")):
    for case in tomllib.loads(case_file.read_text())["case"]:
        (out / f"seed-{n}").write_text(case["url"])
        n += 1
PY
# Authorities: canonical ones (the fast path) and near misses (the parser).
i=0
for a in api.example.com api.example.com:8443 a-b.c0:00443 x.y:65535 x.y:65536 API.example.com \
         xn--bcher-kva.example xn--.example a.0x7f 127.0.0.1 'user@api.example.com' 'a.b.' '[::1]:80'; do
  { printf '\x01'; printf '%s' "$a"; } > "corpus/authority/seed-$i"
  i=$((i + 1))
done
echo "seeded: $(ls corpus/policy_load | wc -l) policies, $(ls corpus/destination | wc -l) urls"
