// SPDX-License-Identifier: GPL-2.0

//! Module-local bindings for what the kernel crate does not bind.
//!
//! Generated at build time by bindgen from `glue.h` (see `Kbuild` and `bindgen_parameters`):
//! the new mount API ([`include/linux/fs_context.h`]), a few static inline VFS helpers (wrapped
//! in C by `--wrap-static-fns`, compiled from `c_inlines.c`) and constants bindgen cannot
//! evaluate from macros. Everything else comes from `kernel::bindings`, re-exported here, so
//! the glue layer has one place to take bindings from.
//!
//! [`include/linux/fs_context.h`]: srctree/include/linux/fs_context.h

#![allow(
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ptr_cast_constness,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks
)]

use kernel::ffi;
use pin_init::{MaybeZeroable, Zeroable};

// bindgen does not derive this one itself, as in the kernel crate's bindings
// (<https://github.com/rust-lang/rust-bindgen/issues/3196>).
//
// SAFETY: `__BindgenBitfieldUnit<Storage>` is a newtype around `Storage`.
unsafe impl<Storage> Zeroable for __BindgenBitfieldUnit<Storage> where Storage: Zeroable {}

include!(env!("LOCUSTFS_GENERATED_RS"));
