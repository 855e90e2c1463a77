// SPDX-License-Identifier: GPL-2.0

//! The dentry operations of a superblock: `d_weak_revalidate`, for opens that reach a file by
//! a jump rather than by its name.
//!
//! A `/proc/PID/fd/N` magic link (of an `O_PATH` fd, say) leads straight to the file's dentry,
//! whether or not the file still has a name. When the file is gone for good
//! ([`FileSystem::is_gone`]), `->open` could only answer `-EOPENSTALE`, and the VFS's one
//! retry would walk the same link to the same dentry: `ESTALE` in user space.
//! `complete_walk()` calls `d_weak_revalidate` on such a jumped-to dentry before the open, and
//! an error there is the open's result: `ENOENT`, the file is gone.
//!
//! C header: [`include/linux/dcache.h`](srctree/include/linux/dcache.h)

use super::{
    bindings,
    inode::Inode,
    FileSystem, //
};
use core::{
    ffi::{
        c_int,
        c_uint, //
    },
    marker::PhantomData, //
};
use kernel::prelude::*;

/// The dentry operations of `T`.
struct DentryOps<T>(PhantomData<T>);

impl<T: FileSystem> DentryOps<T> {
    const OPS: bindings::dentry_operations = bindings::dentry_operations {
        d_weak_revalidate: Some(weak_revalidate::<T>),
        ..pin_init::zeroed()
    };
}

/// Returns the dentry operations of `T`'s superblocks.
pub(super) fn dentry_operations<T: FileSystem>() -> &'static bindings::dentry_operations {
    &DentryOps::<T>::OPS
}

/// `dentry_operations->d_weak_revalidate`: `-ENOENT` for an open of a file that is gone.
///
/// # Safety
///
/// Called by `complete_walk()` with a referenced dentry of a `T` superblock.
unsafe extern "C" fn weak_revalidate<T: FileSystem>(
    dentry: *mut bindings::dentry,
    flags: c_uint,
) -> c_int {
    // SAFETY: `dentry` is referenced (function safety requirement).
    let inode = unsafe { (*dentry).d_inode };
    if flags & bindings::LOCUSTFS_LOOKUP_OPEN == 0 || inode.is_null() {
        return 1;
    }
    // SAFETY: A positive dentry of `T` holds a reference to its inode, an inode of `T`.
    match unsafe { Inode::<T>::from_raw(inode) }.node() {
        Some(node) if T::is_gone(&node) => ENOENT.to_errno(),
        _ => 1,
    }
}
