// SPDX-License-Identifier: GPL-2.0

//! Filesystem type registration: `struct file_system_type` and `register_filesystem()`.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use super::{
    bindings,
    context,
    super_block,
    FileSystem, //
};
use core::{
    ffi::c_int,
    marker::PhantomData, //
};
use kernel::{
    error::to_result,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
    types::Opaque,
    ThisModule, //
};

/// A `struct file_system_type` in static storage.
///
/// It must be static: lockdep only accepts lock class keys in static memory, and the VFS embeds
/// the keys of every superblock's locks in this structure.
///
/// # Invariants
///
/// While `registered` is `true`, the C structure belongs to the VFS and is not written by Rust.
pub(crate) struct FsType {
    inner: Opaque<bindings::file_system_type>,
    registered: Atomic<bool>,
}

// SAFETY: The C structure is only written before registration, by the one caller that set
// `registered`, and afterwards only by the VFS under its own locks.
unsafe impl Sync for FsType {}

impl FsType {
    /// Creates an unregistered filesystem type, for a `static`.
    pub(crate) const fn new() -> Self {
        Self {
            inner: Opaque::zeroed(),
            registered: Atomic::new(false),
        }
    }
}

/// A registered filesystem type; unregistered when dropped.
///
/// # Invariants
///
/// `fs_type` is registered with the VFS for the lifetime of this object.
pub(crate) struct Registration<T: FileSystem> {
    fs_type: &'static FsType,
    _t: PhantomData<T>,
}

impl<T: FileSystem> Registration<T> {
    /// Registers `fs_type` as the filesystem `T`, owned by `module`.
    ///
    /// Fails with `EBUSY` if `fs_type` is already registered.
    pub(crate) fn new(fs_type: &'static FsType, module: &'static ThisModule) -> Result<Self> {
        if fs_type.registered.xchg(true, Relaxed) {
            return Err(EBUSY);
        }
        let ptr = fs_type.inner.get();
        // SAFETY: `registered` was false, so the VFS does not know `ptr` and no one else writes
        // it (type invariant); `ptr` is valid static memory.
        unsafe {
            (*ptr).name = T::NAME.as_char_ptr();
            (*ptr).owner = module.as_ptr();
            (*ptr).init_fs_context = Some(context::init_fs_context::<T>);
            // Every inode operation passes the mount's idmap on (see `FileSystem`).
            (*ptr).fs_flags = bindings::FS_ALLOW_IDMAP as c_int;
            if T::USER_NS_MOUNT {
                (*ptr).fs_flags |= bindings::FS_USERNS_MOUNT as c_int;
            }
            (*ptr).kill_sb = Some(super_block::kill_sb::<T>);
        }
        // SAFETY: `ptr` is a fully initialised `file_system_type` in static memory.
        if let Err(e) = to_result(unsafe { bindings::register_filesystem(ptr) }) {
            fs_type.registered.store(false, Relaxed);
            return Err(e);
        }
        // INVARIANT: `register_filesystem` succeeded.
        Ok(Self {
            fs_type,
            _t: PhantomData,
        })
    }
}

impl<T: FileSystem> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: The type is registered (type invariant). The module cannot be unloaded while a
        // superblock of this type exists (`owner` pins it), so none is left.
        unsafe { bindings::unregister_filesystem(self.fs_type.inner.get()) };
        self.fs_type.registered.store(false, Relaxed);
    }
}
