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

/// A dentry's name, with its parent directory locked (`start_removing_dentry()`).
///
/// # Invariants
///
/// `parent` is referenced and its inode locked; `child` is hashed, a child of `parent`, and
/// referenced once more by `start_removing_dentry`. `Drop` undoes all three.
pub(crate) struct NameLock<'a, T: FileSystem> {
    parent: *mut bindings::dentry,
    child: &'a Dentry<T>,
}

impl<T: FileSystem> NameLock<'_, T> {
    /// Unhashes the name: from now on lookups do not find it (the name itself is removed by
    /// [`NameLock::remove`]). Does not sleep.
    pub(crate) fn unhash(&self) {
        // SAFETY: `child` is referenced (type invariant).
        unsafe { bindings::d_drop(self.child.as_ptr()) };
    }

    /// Removes the name, as `unlink` would, and notifies the directory's watchers
    /// (`IN_DELETE`).
    pub(crate) fn remove(self) {
        // SAFETY: The parent directory is locked and `child` is its referenced, positive child
        // (type invariant): the conditions `simple_unlink` and `d_delete_notify` need.
        unsafe {
            let dir = (*self.parent).d_inode;
            bindings::simple_unlink(dir, self.child.as_ptr());
            bindings::d_delete_notify(dir, self.child.as_ptr());
        }
    }
}

impl<T: FileSystem> Drop for NameLock<'_, T> {
    fn drop(&mut self) {
        // SAFETY: Pairs with `start_removing_dentry` and `dget_parent` in `lock_name` (type
        // invariant): unlocks the parent and drops both references taken there.
        unsafe {
            bindings::end_removing(self.child.as_ptr());
            bindings::dput(self.parent);
        }
    }
}
