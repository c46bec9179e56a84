#!/usr/bin/env bash
# Checks that every tracked C++ source follows .clang-format (clang-format-14:
# another version formats some constructs differently). Changes nothing;
# lists the files that differ and fails. To reformat them:
#   git ls-files '*.cc' '*.h' | xargs clang-format-14 -i
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format-14 >/dev/null || ci/install-deps.sh
mapfile -t sources < <(git ls-files '*.cc' '*.h')
status=0
report=$(clang-format-14 --dry-run -Werror "${sources[@]}" 2>&1) || status=$?
mapfile -t bad < <(sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' <<<"$report" | sort -u)
if ((${#bad[@]} > 0)); then
  echo "format-check: ${#bad[@]} of ${#sources[@]} files differ from .clang-format (clang-format-14):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "reformat: git ls-files '*.cc' '*.h' | xargs clang-format-14 -i" >&2
  exit 1
fi
if ((status != 0)); then  # it failed without naming a file: a bad option, a crash
  echo "format-check: clang-format-14 failed (exit $status):" >&2
  head -20 <<<"$report" >&2
  exit 1
fi
echo "format-check: ${#sources[@]} files follow .clang-format"
