#!/usr/bin/env bash
# Runs the benchmarks with as many open files as the machine allows (S3 holds 10,000 connections:
# 10,000 sockets in the server process and 10,000 in the generator).
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$(dirname "$0")/dist/run.js" "$@"
