#!/usr/bin/env bash
# Seeds the fuzz corpora from testdata/ (policies, invalid policies, case URLs).
# Usage: fuzz/seed.sh   (from anywhere; writes fuzz/corpus/<target>/)
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/policy_load corpus/destination corpus/differential corpus/admission
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
echo "seeded: $(ls corpus/policy_load | wc -l) policies, $(ls corpus/destination | wc -l) urls"
