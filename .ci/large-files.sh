#!/usr/bin/env bash
# Fails when the commit at HEAD holds a file over 10 MB outside models/ and checkpoints/: every such file stays in
# every clone's history for good (a clone was 261 MiB when retrains committed their weights). Weights belong in
# models/ (a bundled model) or checkpoints/ (a run to resume elsewhere), and only when they change. Reads the tree
# object alone (git ls-tree -l: no checkout, no history walk), so it costs milliseconds. Usage: large-files.sh [REPO]
set -euo pipefail
repo="${1:-.}"
limit=$((10 * 1024 * 1024))
# Each line: "MODE TYPE OBJECT SIZE<TAB>PATH"; submodules have size "-".
big=$(git -C "$repo" ls-tree -r -l --full-tree HEAD | awk -F'\t' -v limit="$limit" '{
  split($1, f, " "); if (f[4] != "-" && f[4] + 0 > limit && $2 !~ /^(models|checkpoints)\//) printf "  %s (%.1f MB)\n", $2, f[4] / 1048576
}')
if [ -n "$big" ]; then
  echo "error: files over 10 MB outside models/ and checkpoints/ (keep them out of git, or commit weights only where a bundled model or a resumable run needs them):" >&2
  echo "$big" >&2
  exit 1
fi
echo "large files: none over 10 MB outside models/ and checkpoints/"
