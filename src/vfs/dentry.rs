// SPDX-License-Identifier: GPL-2.0

//! Dentries, and removing a name from its directory outside a directory operation.
//!
//! C headers: [`include/linux/dcache.h`](srctree/include/linux/dcache.h),
//! [`include/linux/namei.h`](srctree/include/linux/namei.h)

use super::{
    bindings,
    FileSystem, //
};
use core::marker::PhantomData;
use kernel::{
    error::from_err_ptr,
    types::Opaque, //
};

/// A dentry of filesystem `T`.
///
/// # Invariants
///
/// The dentry belongs to a superblock of `T` and is referenced for the lifetime of `&self`.
#[repr(transparent)]
pub(crate) struct Dentry<T: FileSystem>(Opaque<bindings::dentry>, PhantomData<T>);

impl<T: FileSystem> Dentry<T> {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a dentry of `T` that the caller holds a reference to for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::dentry) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper of the C struct; the caller guarantees the
        // pointer is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    fn as_ptr(&self) -> *mut bindings::dentry {
        self.0.get()
    }

    /// Locks the directory holding this dentry's name, if it still has one.
    ///
    /// Returns `None` if the name is already gone (unlinked, or replaced by a rename). A rename
    /// into another directory while this waits for the lock is followed to the new parent.
    pub(crate) fn lock_name(&self) -> Option<NameLock<'_, T>> {
        loop {
            // SAFETY: The dentry is referenced (type invariant); `dget_parent` returns a
            // referenced parent.
            let parent = unsafe { bindings::dget_parent(self.as_ptr()) };
            // SAFETY: Both dentries are referenced. On success this locks the parent
            // directory, checks that it is still our parent and that we are hashed, and takes
            // a reference to us.
            let locked = unsafe { bindings::start_removing_dentry(parent, self.as_ptr()) };
            if from_err_ptr(locked).is_ok() {
                // INVARIANT: Locked and checked above.
                return Some(NameLock {
                    parent,
                    child: self,
                    ours: true,
                });
            }
            // SAFETY: Referenced by `dget_parent` above.
            unsafe { bindings::dput(parent) };
            // SAFETY: The dentry is referenced.
            if unsafe { bindings::d_unhashed(self.as_ptr()) } != 0 {
                return None;
            }
            // Still hashed, so the parent changed under us: a rename. Try the new parent.
        }
    }
}

/// A dentry's name, with its parent directory locked.
///
/// # Invariants
///
/// `child` is a positive, referenced child of `parent` whose inode is locked. If `ours`, the
/// lock and a reference to each were taken by [`Dentry::lock_name`]
/// (`start_removing_dentry()`, `dget_parent()`), and `Drop` undoes all three; otherwise the
/// VFS holds them for the duration of the directory operation that made the `NameLock`.
pub(crate) struct NameLock<'a, T: FileSystem> {
    parent: *mut bindings::dentry,
    child: &'a Dentry<T>,
    ours: bool,
}

impl<'a, T: FileSystem> NameLock<'a, T> {
    /// Wraps the name `child` of a directory the VFS has locked for a directory operation.
    ///
    /// # Safety
    ///
    /// `child` must be a positive child of a directory of `T` whose inode the caller (the VFS)
    /// keeps locked, and referenced, for `'a`.
    pub(super) unsafe fn held_by_vfs(child: &'a Dentry<T>) -> Self {
        // SAFETY: `child` is valid; with its parent locked, `d_parent` is stable.
        let parent = unsafe { (*child.as_ptr()).d_parent };
        // INVARIANT: The caller guarantees the lock and the references.
        Self {
            parent,
            child,
            ours: false,
        }
    }

    /// Unhashes the name: from now on lookups do not find it (the name itself is removed by
    /// [`NameLock::remove`]). Does not sleep.
    pub(crate) fn unhash(&self) {
        // SAFETY: `child` is referenced (type invariant).
        unsafe { bindings::d_drop(self.child.as_ptr()) };
    }

    /// Removes the name, as `vfs_unlink()` would with the victim's inode locked, and (for a
    /// name that was announced) notifies the directory's watchers (`IN_DELETE`).
    ///
    /// Unlike `vfs_unlink()` this asks no LSM (`security_inode_unlink()`): the removal is the
    /// filesystem's own lifetime rule, not a user's request, and a veto would leave a file no
    /// one has open. Mountpoints need no handling: nothing can be mounted on a locust file
    /// (`dont_mount()` at creation). See `docs/design.md`.
    pub(crate) fn remove(self) {
        // SAFETY: The parent directory is locked and `child` is its referenced, positive child
        // (type invariant): the conditions `simple_unlink` and `d_delete_notify` need. The
        // child's inode lock nests inside the directory's, as in `vfs_unlink()`.
        unsafe {
            let dir = (*self.parent).d_inode;
            let inode = (*self.child.as_ptr()).d_inode;
            bindings::inode_lock(inode);
            bindings::simple_unlink(dir, self.child.as_ptr());
            bindings::inode_unlock(inode);
            if self.ours {
                bindings::d_delete_notify(dir, self.child.as_ptr());
            }
        }
    }
}

impl<T: FileSystem> Drop for NameLock<'_, T> {
    fn drop(&mut self) {
        if !self.ours {
            return;
        }
        // SAFETY: Pairs with `start_removing_dentry` and `dget_parent` in `lock_name` (type
        // invariant): unlocks the parent and drops both references taken there.
        unsafe {
            bindings::end_removing(self.child.as_ptr());
            bindings::dput(self.parent);
        }
    }
}
