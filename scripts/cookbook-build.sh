#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the compiled recipes of docs/locustfs.rst's "Recipes" section as written, for the guest
# scripts that run them (tests/cookbook.sh, tests/cookbook-vng.sh):
#
#   scripts/cookbook-build.sh
#
# The C recipes are built by the tests Makefile (static, into tests/build/recipes/). This script
# builds the Rust ones: run_once.rs with rustc, and the tokio Cargo project
# (news-reader-tokio/) with cargo, its dependencies fetched from crates.io and built in
# $LOCUSTFS_CACHE/cookbook-target. Each binary lands in tests/build/recipes/ next to a copy of
# the source it was built from, which the guest scripts compare with the document.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

doc=$LOCUSTFS_TOP/docs/locustfs.rst
out=$LOCUSTFS_TOP/tests/build/recipes
project=$LOCUSTFS_CACHE/cookbook/news-reader-tokio
mkdir -p "$out" "$project/src"

# extract NAME FILE: writes recipe NAME to FILE, leaving FILE alone when it already holds it
# (so that an unchanged recipe is not rebuilt).
extract() {
	awk -v name="$1" -f "$LOCUSTFS_TOP/tests/recipes.awk" "$doc" >"$2.new"
	if cmp -s "$2.new" "$2"; then rm "$2.new"; else mv "$2.new" "$2"; fi
}

command -v rustc >/dev/null || die "cookbook-build: rustc not found (run scripts/setup.sh)"

extract run_once.rs "$out/run_once.rs"
if [ ! "$out/run_once" -nt "$out/run_once.rs" ]; then
	info "rustc run_once.rs"
	rustc --edition 2021 -O -o "$out/run_once" "$out/run_once.rs"
fi

extract news-reader-tokio/Cargo.toml "$project/Cargo.toml"
extract news-reader-tokio/src/main.rs "$project/src/main.rs"
info "cargo build news-reader-tokio"
run_logged cookbook-tokio cargo build --release --quiet --manifest-path "$project/Cargo.toml" \
	--target-dir "$LOCUSTFS_CACHE/cookbook-target"
install -m 755 "$LOCUSTFS_CACHE/cookbook-target/release/news-reader-tokio" "$out/news-reader-tokio"
mkdir -p "$out/news-reader-tokio.src/src"
cp "$project/Cargo.toml" "$out/news-reader-tokio.src/Cargo.toml"
cp "$project/src/main.rs" "$out/news-reader-tokio.src/src/main.rs"
