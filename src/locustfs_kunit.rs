// SPDX-License-Identifier: GPL-2.0

//! locustfs_kunit: the KUnit tests of locustfs, as a module of their own.
//!
//! This crate root compiles the same `src/options.rs` and `src/limits.rs` as the filesystem's
//! crate root (`locustfs.rs`), with `--cfg locustfs_kunit`, which `Kbuild` passes to this object
//! alone. The cfg enables their `#[kunit_tests]` suites, `locustfs_options` and
//! `locustfs_limits`, which KUnit runs when this module is loaded (and which taint the kernel
//! with `TAINT_TEST`). The production module `locustfs.ko` contains no tests, so loading it runs
//! nothing. This module registers no filesystem: it only carries the suites.
//!
//! `tests/kunit.sh` loads it, reports each test case and unloads it.

mod limits;
mod options;
// The tested files use the glue layer's `ParamError`, ids and poll bits; the rest of it is
// unused here.
#[expect(
    dead_code,
    unused_imports,
    reason = "the suites use only the glue layer's ParamError, ids and poll bits"
)]
mod vfs;

use kernel::prelude::*;

module! {
    type: LocustfsKunit,
    name: "locustfs_kunit",
    authors: ["The locustfs developers"],
    description: "KUnit tests of locustfs: mount options, accounting, poll masks",
    license: "GPL",
}

/// The loaded test module; KUnit runs its suites while it loads.
struct LocustfsKunit;

impl kernel::Module for LocustfsKunit {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}
