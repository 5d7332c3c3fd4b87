#!/usr/bin/env bash
# Stops what start.sh started in <workdir>.
#
#   stop.sh <workdir>                  stop everything (SIGTERM, then SIGKILL after 3 s)
#   stop.sh <workdir> [--kill] NAME…   stop only these (proxy, account, container, object,
#                                      memcached, watchdog); --kill sends SIGKILL at once, the way
#                                      a crash looks to clients (fault tests: --kill proxy)
#
# Only pids recorded in <workdir>/pids whose command line mentions <workdir> are signalled, so a
# recycled pid is never hit. Exits 0 when nothing is running.
set -uo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 <workdir> [--kill] [name…]" >&2
  exit 2
fi
W=$(realpath -m "$1"); shift
SIG=TERM
if [ "${1:-}" = --kill ]; then SIG=KILL; shift; fi
[ -f "$W/pids" ] || exit 0

ours() { # pid -> 0 if it is alive and one of this workdir's processes
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -e "$W " -e "$W/"
}

alive() { # pid -> 0 if running. The servers are orphans (start.sh exited), so after they die they
  # stay zombies until init reaps them, which can take a second: a zombie counts as stopped.
  local _pid _comm state
  read -r _pid _comm state _ <"/proc/$1/stat" 2>/dev/null || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

declare -A want=()
for n in "$@"; do want[$n]=1; done

# The watchdog goes first, so it does not run a second stop while this one is in progress; it is
# only stopped with everything.
order=(watchdog proxy object container account memcached)
pids=()
for n in "${order[@]}"; do
  if [ $# -gt 0 ] && [ -z "${want[$n]:-}" ]; then continue; fi
  pid=$(awk -v n="$n" '$1 == n { print $2 }' "$W/pids")
  [ -n "$pid" ] || continue
  # memcached takes most of a second to exit on SIGTERM; it holds nothing worth a clean stop.
  sig=$SIG; [ "$n" = memcached ] && sig=KILL
  # The watchdog runs this script by exec, so its pid can be our own.
  if [ "$pid" != "$$" ] && ours "$pid"; then kill -s "$sig" "$pid" 2>/dev/null && pids+=("$pid"); fi
  grep -v "^$n " "$W/pids" >"$W/pids.tmp"; mv "$W/pids.tmp" "$W/pids"
done

for _ in $(seq 100); do
  left=()
  for p in "${pids[@]+"${pids[@]}"}"; do alive "$p" && left+=("$p"); done
  [ ${#left[@]} -eq 0 ] && exit 0
  sleep 0.03
done
for p in "${left[@]}"; do kill -KILL "$p" 2>/dev/null; done
exit 0
