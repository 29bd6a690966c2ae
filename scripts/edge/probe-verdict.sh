#!/usr/bin/env bash
# The overall verdict of a WASM smoke run, kept apart so it can be tested without a toolchain.
#
#   scripts/edge/probe-verdict.sh STEPS_STATUS [NAME:pass|NAME:fail|NAME:skipped ...]
#
# Prints `fail` if the build steps failed or any probe failed, `skipped` if no probe passed (a
# skipped probe is no evidence, and neither are the build steps alone), `pass` otherwise.
set -u
steps="$1"
shift
any_pass=no
for result in "$@"; do
  case "$result" in
    *:fail) echo fail; exit 0 ;;
    *:pass) any_pass=yes ;;
  esac
done
if [ "$steps" != pass ]; then
  echo fail
elif [ "$any_pass" = yes ]; then
  echo pass
else
  echo skipped
fi
