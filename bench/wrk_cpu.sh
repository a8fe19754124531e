#!/bin/sh
# One wrk run against a running server, and the CPU the server spent on it: what a change costs
# per request, which on a shared machine says more than requests/s (docs/server.md, "Timeouts and
# limits").
#   bench/wrk_cpu.sh PID PORT PATH      e.g. bench/wrk_cpu.sh 1234 8080 /{locator}/x.ism/manifest
set -eu
pid=${1:?usage: wrk_cpu.sh PID PORT PATH}
port=${2:?}
path=${3:?}
hz=$(getconf CLK_TCK)
before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
out=$(wrk -t2 -c64 -d10s "http://127.0.0.1:$port$path")
after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
requests=$(echo "$out" | awk '/requests in/ {print $1}')
rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
awk -v r="$rate" -v n="$requests" -v t="$((after - before))" -v hz="$hz" -v p="$port" 'BEGIN {
  printf "port %s: %s requests/s, %d requests, server CPU %.2f s, %.1f us/request\n",
         p, r, n, t / hz, t * 1e6 / hz / n }'
