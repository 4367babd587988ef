#!/bin/bash
# Crash test: kill -9 a writer at random moments (appends, removes, compactions); after each kill
# the table must show exactly the last committed state (or the one commit that reached its commit
# point but had not been reported yet), every record byte-identical, summaries and account lists
# consistent. Usage: crash.sh KIND DIR ROUNDS BATCH
set -u
KIND=$1 DIR=$2 ROUNDS=${3:-12} BATCH=${4:-2000}
B=$(dirname $0)/target/release/scratch-store
rm -rf "$DIR"; mkdir -p "$DIR"
ok=0; fail=0
for i in $(seq 1 $ROUNDS); do
  nice -n 10 $B crash-child $KIND "$DIR/t" $BATCH > "$DIR/out" 2>"$DIR/err" &
  pid=$!
  sleep $(python3 -c "import random; print(random.uniform(0.3, 2.5))")
  kill -9 $pid; wait $pid 2>/dev/null
  [ -d "$DIR/t" ] && n=$(ls "$DIR/t" | grep -c "^data-") && [ "$n" -gt 1 ] && echo "  (killed mid-compaction: $n data epochs on disk)"
  last=$(grep -E "^(committed|compacted)" "$DIR/out" | tail -1)
  lastnext=$(echo "$last" | awk '{print $4}'); lastnext=${lastnext:-$prevnext}
  v=$(nice -n 10 $B crash-verify $KIND "$DIR/t" 2>&1 | tail -1)
  vnext=$(echo "$v" | awk '{print $6}')
  if [[ "$v" == verified* ]] && { [ "$vnext" = "$lastnext" ] || [ "$vnext" = "$((lastnext + BATCH))" ]; }; then ok=$((ok+1)); else fail=$((fail+1)); echo "FAIL round $i: last='$last' verify='$v'"; cat "$DIR/err" | tail -3; fi
  echo "round $i: reported '$last' | $v"
  prevnext=$vnext
done
echo "$KIND: $ok passed, $fail failed"
