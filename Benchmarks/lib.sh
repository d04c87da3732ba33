# Helpers the benchmark scripts source.

# result WHAT OURS PEER RATIO TARGET MET: one line of `make bench`'s summary table, appended (tab-separated) to
# $BENCH_RESULTS/NAME.tsv when BENCH_RESULTS is set (NAME: the calling script's name). Empty cells are "-".
result() {
  [ -n "${BENCH_RESULTS:-}" ] || return 0
  mkdir -p "$BENCH_RESULTS"
  local name; name=$(basename "$0" .sh)
  local IFS=$'\t' cells=()
  for c in "$@"; do cells+=("${c:--}"); done
  printf '%s\n' "${cells[*]}" >> "$BENCH_RESULTS/$name.tsv"
}

# ms_stats FILE [COLUMN]: "median p95" of the milliseconds in COLUMN (1: wall, 2: CPU) of FILE, nearest rank.
ms_stats() {
  awk -v c="${2:-1}" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; i = int(NR * 0.95 + 0.999); if (i > NR) i = NR; printf "%.1f %.1f\n", m, v[i] }'
}

# time_ms FILE CMD...: runs CMD (output discarded) and appends its wall time and its CPU time (user + system), in
# milliseconds, to FILE (CPU in GNU time's 10 ms steps). The CPU time does not grow when other work shares the
# machine; the wall time does.
time_ms() {
  local f=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f "%U %S" -o "$f.t" "$@" > /dev/null
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" '{ printf "%.1f %.0f\n", (b - a) / 1e6, ($1 + $2) * 1000 }' "$f.t" >> "$f"
}

# ratio A B: A / B with two decimals ("-" when B is 0 or empty).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }

# below A LIMIT: "yes" when A < LIMIT, else "no".
below() { awk -v a="$1" -v l="$2" 'BEGIN { print (a + 0 < l + 0) ? "yes" : "no" }'; }
