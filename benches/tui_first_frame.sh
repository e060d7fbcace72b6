#!/usr/bin/env bash
# Measures the terminal UI as a person meets it: the time from starting `kubetriage BUNDLE` in a
# 160×40 tmux pane until its first frame is on the screen, and until the check list shows (the
# analysis has ended). The pane is read with `tmux capture-pane` every 5 ms, so both times are
# upper bounds within about 10 ms (they include starting the pane). Medians of 3 runs.
#
#   benches/tui_first_frame.sh BUNDLE [KUBETRIAGE]     (default target/release/kubetriage)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: benches/tui_first_frame.sh BUNDLE [KUBETRIAGE]" >&2; exit 2; }
bundle=$1
kt=${2:-target/release/kubetriage}
command -v tmux >/dev/null 2>&1 || { echo "benches/tui_first_frame.sh: tmux is missing (apt-get install tmux)" >&2; exit 2; }
[ -x "$kt" ] || { echo "benches/tui_first_frame.sh: $kt is missing (cargo build --release)" >&2; exit 2; }
sock="kubetriage-bench-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true' EXIT
now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }
firsts=() lists=()
for _ in 1 2 3; do
  tmux -L "$sock" kill-server 2>/dev/null || true
  start=$(now)
  tmux -L "$sock" new-session -d -x 160 -y 40 "$kt $(printf %q "$bundle"); sleep 600"
  first="" list=""
  while :; do
    screen=$(tmux -L "$sock" capture-pane -p 2>/dev/null || true)
    t=$(now)
    if [ -z "$first" ] && grep -q "kubetriage" <<<"$screen"; then first=$t; fi
    # The loading screen shows "Checks (0)"; the list counts the catalog.
    if grep -Eq "Checks \([1-9]" <<<"$screen"; then list=$t; break; fi
    if [ $(( (t - start) / 1000000000 )) -gt 900 ]; then echo "no check list after 900 s" >&2; exit 1; fi
    sleep 0.005
  done
  tmux -L "$sock" send-keys q
  firsts+=("$(ms "$start" "$first")")
  lists+=("$(ms "$start" "$list")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo "first frame: $(median "${firsts[@]}") ms (runs: ${firsts[*]})"
echo "check list:  $(median "${lists[@]}") ms (runs: ${lists[*]})"
