// SPDX-License-Identifier: GPL-2.0

//! User and group ids: kernel ids (`kuid_t`, `kgid_t`) and the user namespaces that map them
//! to and from the numbers user space writes.
//!
//! A mount option such as `uid=1000` is a number in the mounter's user namespace
//! (`fc->user_ns`, which becomes the superblock's `s_user_ns`); the inode stores the kernel id
//! that number maps to. `/proc/mounts` shows a kernel id as the number it maps to in the
//! reader's namespace.
//!
//! The kernel crate's `task::Kuid` has no group counterpart, so both are defined here, as
//! plain copies of the C values.
//!
//! C header: [`include/linux/uidgid.h`](srctree/include/linux/uidgid.h)

use super::bindings;
use core::marker::PhantomData;

/// A kernel user id.
#[derive(Clone, Copy)]
pub(crate) struct Kuid(pub(super) bindings::kuid_t);

/// A kernel group id.
#[derive(Clone, Copy)]
pub(crate) struct Kgid(pub(super) bindings::kgid_t);

impl PartialEq for Kuid {
    fn eq(&self, other: &Self) -> bool {
        // `uid_eq()`.
        self.0.val == other.0.val
    }
}

impl Eq for Kuid {}

impl PartialEq for Kgid {
    fn eq(&self, other: &Self) -> bool {
        // `gid_eq()`.
        self.0.val == other.0.val
    }
}

impl Eq for Kgid {}

impl core::fmt::Debug for Kuid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Kuid({})", self.0.val)
    }
}

impl core::fmt::Debug for Kgid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Kgid({})", self.0.val)
    }
}

/// A user namespace, borrowed for `'a`.
///
/// # Invariants
///
/// `ptr` points to a user namespace that stays alive for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct UserNs<'a> {
    ptr: *mut bindings::user_namespace,
    _p: PhantomData<&'a bindings::user_namespace>,
}

impl<'a> UserNs<'a> {
    /// Wraps a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a user namespace that stays alive for `'a`.
    pub(super) unsafe fn from_raw(ptr: *mut bindings::user_namespace) -> Self {
        // INVARIANT: The caller guarantees that `ptr` is valid for `'a`.
        Self {
            ptr,
            _p: PhantomData,
        }
    }

    /// Returns the initial user namespace.
    pub(crate) fn initial() -> UserNs<'static> {
        // SAFETY: `init_user_ns` is static and never freed.
        unsafe { UserNs::from_raw(&raw mut bindings::init_user_ns) }
    }

    /// Returns whether this is the initial user namespace.
    pub(crate) fn is_initial(&self) -> bool {
        core::ptr::eq(self.ptr, UserNs::initial().ptr)
    }

    /// Returns the host user answerable for this namespace: the owner of the outermost
    /// namespace of its chain (below the initial one) that is not owned by the host's root.
    ///
    /// Every namespace an unprivileged user creates, nested or not, and whatever ids it maps,
    /// leads back to the first one they created, owned by their own id. `None` for the initial
    /// namespace and for a chain whose namespaces all belong to root (a privileged container
    /// runtime's), where root chose the memory the namespace may use.
    pub(crate) fn host_user(&self) -> Option<Kuid> {
        let initial = UserNs::initial().ptr;
        let mut ns = self.ptr;
        let mut user = None;
        while !core::ptr::eq(ns, initial) {
            // SAFETY: `ns` is `self`'s namespace (alive for `'a`, type invariant) or one of its
            // ancestors, which a namespace keeps alive through its `parent` reference.
            let (owner, parent) = unsafe { ((*ns).owner, (*ns).parent) };
            // `GLOBAL_ROOT_UID` is 0.
            if owner.val != 0 {
                user = Some(Kuid(owner));
            }
            ns = parent;
        }
        user
    }

    /// Returns the kernel id of user `uid` of this namespace, `None` if `uid` has no mapping.
    pub(crate) fn kuid(&self, uid: u32) -> Option<Kuid> {
        // SAFETY: `ptr` is a live user namespace (type invariant).
        let kuid = unsafe { bindings::make_kuid(self.ptr, uid) };
        // `uid_valid()`: an unmapped id comes back as `INVALID_UID`, -1.
        (kuid.val != u32::MAX).then_some(Kuid(kuid))
    }

    /// Returns the kernel id of group `gid` of this namespace, `None` if `gid` has no mapping.
    pub(crate) fn kgid(&self, gid: u32) -> Option<Kgid> {
        // SAFETY: `ptr` is a live user namespace (type invariant).
        let kgid = unsafe { bindings::make_kgid(self.ptr, gid) };
        // `gid_valid()`: an unmapped id comes back as `INVALID_GID`, -1.
        (kgid.val != u32::MAX).then_some(Kgid(kgid))
    }

    /// Returns the number `kuid` has in this namespace, the overflow uid if it has none.
    pub(crate) fn uid_of(&self, kuid: Kuid) -> u32 {
        // SAFETY: `ptr` is a live user namespace (type invariant).
        unsafe { bindings::from_kuid_munged(self.ptr, kuid.0) }
    }

    /// Returns the number `kgid` has in this namespace, the overflow gid if it has none.
    pub(crate) fn gid_of(&self, kgid: Kgid) -> u32 {
        // SAFETY: `ptr` is a live user namespace (type invariant).
        unsafe { bindings::from_kgid_munged(self.ptr, kgid.0) }
    }
}
