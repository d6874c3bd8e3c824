# Helpers for tests/hostile/20-workers.cases (sourced by a case's command line): small sweeps
# and their shards, and runs interrupted by a signal or by the death of one worker.
# Every helper works in the case's own empty folder and uses $CAPSIM.

# The small sweep of the merge cases (8 points, a fraction of a second): sweep_small OUT [OPTION...]
sweep_small() {
  local out="$1"
  shift
  "$CAPSIM" sweep --model llama-3.2-1b --gpu h100-sxm --step-model roofline --requests 40 \
    --replications 2 --sweep rate=1:4:1 --sweep precision=bf16,fp8 --jobs 2 "$@" --out "$out" \
    >/dev/null
}

# Shards s1 .. sN of the small sweep, and the whole sweep in whole: shards N [OPTION...]
shards() {
  local n="$1" i
  shift
  sweep_small whole "$@" || return 1
  for i in $(seq 1 "$n"); do sweep_small "s$i" --shard "$i/$n" "$@" || return 1; done
}

# The pids of the children of pid $1, once there are some (waits up to 10 s).
children_of() {
  local i kids=""
  for i in $(seq 1 200); do
    kids=$(pgrep -P "$1" | tr '\n' ' ')
    [ -n "$kids" ] && break
    sleep 0.05
  done
  echo "$kids"
}

# Fails (status 98) when any of the pids is a live process, not a zombie waiting to be reaped.
none_alive() {
  local k
  for k in "$@"; do
    if [ -e "/proc/$k" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$k/status" 2>/dev/null; then
      echo "process $k outlived its parent" >&2
      return 98
    fi
  done
}

# interrupt SIGNAL CMD...: runs CMD in the background (in its own process group, as a job of
# an interactive shell is, so SIGINT is not ignored) with TMPDIR=./tmp, sends SIGNAL to it
# once its workers run, and checks that no worker outlives it. Returns CMD's exit status
# (128 + the signal when it died of it), or 98 when a worker outlived it, 99 when no worker
# ever started.
interrupt() {
  local sig="$1"
  shift
  mkdir -p tmp
  export TMPDIR="$PWD/tmp"
  set -m
  "$@" >cmd.out 2>cmd.err &
  local pid=$!
  set +m
  local kids
  kids=$(children_of "$pid")
  [ -n "$kids" ] || { echo "no worker started" >&2; kill -KILL "$pid"; return 99; }
  sleep 0.3
  kids="$kids $(pgrep -P "$pid" | tr '\n' ' ')"
  kill "-$sig" "$pid"
  wait "$pid"
  local rc=$?
  sleep 0.3
  # shellcheck disable=SC2086 # a list of pids
  none_alive $kids || return 98
  return "$rc"
}

# kill_worker CMD...: runs CMD and kills one of its workers with SIGKILL once it runs.
# Returns CMD's exit status; CMD's stderr goes to stderr.
kill_worker() {
  "$@" >cmd.out 2>cmd.err &
  local pid=$!
  local kids
  kids=$(children_of "$pid")
  # Into its first item: a worker killed before it took one would lose nothing.
  sleep 0.2
  kill -KILL "${kids%% *}" 2>/dev/null
  wait "$pid"
  local rc=$?
  cat cmd.err >&2
  return "$rc"
}

# No parts folder under ./tmp.
no_parts() {
  ! ls tmp 2>/dev/null | grep -q capsim-parts
}
