#!/usr/bin/env bash
# Benchmarks kubetriage on generated bundles, next to what the machine and a person would do
# instead, in the same run:
#   gzip -dc BUNDLE.tar.gz > /dev/null   the floor for reading an archive at all
#   tar xzf BUNDLE.tar.gz                what a person does first
#   rg -f PATTERNS FOLDER                a person grepping for the catalog's log patterns
# Each timing is the median of 3 runs; memory is the peak resident set size (GNU time).
#
#   benches/run.sh [small] [medium] [large] [all] [--scale-logs] [json-heavy] [json-heavy-x2]
# --scale-logs adds the large bundle with twice the journals and logs (memory must stay flat).
# json-heavy is a cluster of 5,000 nodes, 150,000 pods and 100,000 events in kubectl's own JSON
# shapes with modest logs; json-heavy-x2 doubles only its JSON (memory must stay flat).
# Bundles are generated once into bench-out/ (git-ignored) by examples/gen_bundle.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="" scale=""
for a in "$@"; do
  case $a in
    all) sizes="small medium large" ;;
    small|medium|large|json-heavy|json-heavy-x2) sizes="$sizes $a" ;;
    --scale-logs) scale=1 ;;
    *) echo "benches/run.sh: unknown argument $a: use small, medium, large, all, --scale-logs, json-heavy, json-heavy-x2" >&2; exit 2 ;;
  esac
done
[ -n "$sizes" ] || sizes="small medium large"
out=bench-out
mkdir -p "$out"

need() { command -v "$1" >/dev/null 2>&1 || { echo "benches/run.sh: $1 is missing (apt-get install $2)" >&2; exit 2; }; }
need rg ripgrep
[ -x /usr/bin/time ] || { echo "benches/run.sh: GNU time is missing (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin kubetriage --example gen_bundle
kt=target/release/kubetriage
gen=target/release/examples/gen_bundle

# The catalog's own log patterns, as rg reads them.
# (rg joins them into one regex, so capture names, which repeat across checks, are dropped.)
sed -n "s/^ *regex: '\\(.*\\)'\$/\\1/p" analyzers/*/*.yaml | sed -e "s/''/'/g" -e 's/(?P<[A-Za-z_][A-Za-z0-9_]*>/(/g' > "$out/patterns.txt"

# median of three: prints "seconds peak_kib"
measure() {
  local runs=() mem=0 line tf
  tf=$(mktemp)
  for _ in 1 2 3; do
    /usr/bin/time -o "$tf" -f '%e %M' "$@" >/dev/null 2>&1 || true
    line=$(tail -n 1 "$tf")
    runs+=("${line% *}")
    local m=${line#* }
    [ "$m" -gt "$mem" ] && mem=$m
  done
  rm -f "$tf"
  printf '%s %s\n' "$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)" "$mem"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "kubetriage $($kt --version | cut -d' ' -f2), $(rg --version 2>/dev/null | sed -n 1p), $(gzip --version | sed -n 1p)"
echo
echo "| bundle | size | gzip -dc | tar xzf | kubetriage .tar.gz | ratio to gzip -dc | rg (patterns) | kubetriage folder | ratio to rg | peak memory .tar.gz / folder |"
echo "|---|---|---|---|---|---|---|---|---|---|"
variants=""
for s in $sizes; do variants="$variants $s"; done
[ -n "$scale" ] && variants="$variants large-x2"
for v in $variants; do
  dir="$out/$v"
  if [ ! -f "$dir.done" ]; then
    rm -rf "$dir" "$dir.tar.gz"
    case $v in
      large-x2) "$gen" --size large --scale-logs 2 --out "$dir/bundle" ;;
      *) "$gen" --size "$v" --out "$dir/bundle" ;;
    esac
    tar -C "$dir" -czf "$dir.tar.gz" bundle
    touch "$dir.done"
  fi
  size=$(du -sh "$dir/bundle" | cut -f1)
  read -r gz _ < <(measure gzip -dc "$dir.tar.gz")
  tmp=$(mktemp -d)
  read -r tx _ < <(measure tar -C "$tmp" -xzf "$dir.tar.gz")
  rm -rf "$tmp"
  read -r ktar ktar_mem < <(measure "$kt" --format json --fail-on never "$dir.tar.gz")
  read -r rgt _ < <(measure rg --no-ignore --hidden -c -f "$out/patterns.txt" "$dir/bundle")
  read -r kdir kdir_mem < <(measure "$kt" --format json --fail-on never "$dir/bundle")
  echo "| $v | $size | ${gz}s | ${tx}s | ${ktar}s | $(ratio "$ktar" "$gz") | ${rgt}s | ${kdir}s | $(ratio "$kdir" "$rgt") | $(mib "$ktar_mem") / $(mib "$kdir_mem") MiB |"
done
