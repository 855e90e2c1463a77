// SPDX-License-Identifier: GPL-2.0

//! What each host user holds across all the instances mounted in their user namespaces.
//!
//! One instance mounted in a user namespace is bounded by its own `size=` (at most half of
//! RAM), but a user may mount any number of them, and file data is unevictable and not seen
//! by the OOM killer while descriptors hold it. So the bytes of every instance whose user
//! namespace leads back to one host user ([`crate::vfs::UserNs::host_user`]) are charged to
//! that user as well, against the module parameter `user_ns_size` (default: half of RAM, what
//! one instance may ask for at most). A write past it writes what fits, then `ENOSPC`, as for
//! `size=`.
//!
//! The kernel's own per-user counters (`user_shm_lock()`, `inc_rlimit_ucounts()`) are not
//! exported to modules in 7.3; memory cgroups remain the bound for the pages themselves.

use crate::{
    limits::{
        Full,
        Usage, //
    },
    vfs::{
        self,
        Kuid, //
    },
};
use kernel::{
    page::PAGE_SIZE,
    prelude::*,
    sync::global_lock, //
};

global_lock! {
    // SAFETY: Initialised by `init()` in the module initialiser, before the filesystem type is
    // registered, so before any instance can exist.
    unsafe(uninit) static USERS: SpinLock<KVec<UserUsage>> = KVec::new();
}

/// The registry of users for as long as the module is loaded: initialised by [`Registry::new`],
/// its memory freed when the module unloads.
pub(crate) struct Registry(());

impl Registry {
    /// Initialises the registry.
    ///
    /// # Safety
    ///
    /// Must be called exactly once, before any other function of this module is used.
    pub(crate) unsafe fn new() -> Self {
        // SAFETY: The caller guarantees this is the one call, before any use.
        unsafe { USERS.init() };
        Self(())
    }
}

impl Drop for Registry {
    /// Frees the registry's buffer: a static is never dropped, and entries removed from it
    /// leave its capacity allocated. Every instance is gone by then (the filesystem type is
    /// unregistered first, and a mounted instance holds the module).
    fn drop(&mut self) {
        let old = core::mem::take(&mut *USERS.lock());
        drop(old);
    }
}

/// The bytes one host user may hold across their user-namespace instances.
pub(crate) fn limit() -> u64 {
    let page = PAGE_SIZE as u64;
    match crate::module_parameters::user_ns_size.value() {
        0 => (vfs::total_ram_bytes() / 2 / page * page).max(page),
        bytes => bytes.div_ceil(page) * page,
    }
}

/// One user's entry: their live instances and the bytes charged to them.
struct UserUsage {
    user: Kuid,
    instances: usize,
    usage: Usage,
}

/// The charge of one instance to its host user, registered while the instance lives.
///
/// # Invariants
///
/// `USERS` has an entry for `user` with `instances` counting this `UserCharge`.
pub(crate) struct UserCharge {
    user: Kuid,
}

impl UserCharge {
    /// Registers one more instance of `user`.
    pub(crate) fn new(user: Kuid) -> Result<Self> {
        let mut users = USERS.lock();
        match users.iter_mut().find(|u| u.user == user) {
            Some(entry) => entry.instances += 1,
            // Under a spinlock: the allocation must not sleep. A mount is rare, and the
            // registry holds one small entry per user with an instance.
            None => users.push(
                UserUsage {
                    user,
                    instances: 1,
                    usage: Usage::default(),
                },
                GFP_ATOMIC,
            )?,
        }
        // INVARIANT: Counted above.
        Ok(Self { user })
    }

    /// Calls `f` with this user's usage, the registry locked.
    fn with_usage<R>(&self, f: impl FnOnce(&mut Usage) -> R) -> R {
        let mut users = USERS.lock();
        match users.iter_mut().find(|u| u.user == self.user) {
            Some(entry) => f(&mut entry.usage),
            // Unreachable: the entry exists while `self` does (type invariant).
            None => {
                kernel::warn_on!(true);
                f(&mut Usage::default())
            }
        }
    }

    /// Moves one file's charge from `old` to `new` bytes; growing past [`limit()`] fails.
    pub(crate) fn recharge(&self, old: u64, new: u64) -> Result<(), Full> {
        let limit = limit();
        self.with_usage(|u| u.recharge(old, new, limit))
    }

    /// Grows one file's charge from `old` towards `want` bytes by the whole pages that fit
    /// under [`limit()`]; returns the new charge.
    pub(crate) fn grow_up_to(&self, old: u64, want: u64) -> u64 {
        let limit = limit();
        self.with_usage(|u| u.grow_up_to(old, want, limit))
    }
}

impl Drop for UserCharge {
    fn drop(&mut self) {
        let mut users = USERS.lock();
        if let Some(i) = users.iter().position(|u| u.user == self.user) {
            users[i].instances -= 1;
            if users[i].instances == 0 {
                // Every file of the instance was evicted first: nothing is charged any more.
                let _ = users.remove(i);
            }
        }
    }
}
