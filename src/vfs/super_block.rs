// SPDX-License-Identifier: GPL-2.0

//! Superblocks: `fill_super`, `kill_sb` and the superblock operations.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use super::{
    bindings,
    context,
    dentry_ops,
    ids::UserNs,
    inode::{
        self,
        Inode, //
    },
    Change,
    FileSystem,
    SuperParams, //
};
use core::{
    marker::PhantomData,
    ptr, //
};
use kernel::{
    error::from_result,
    ffi::{
        c_int,
        c_ulong, //
    },
    page::PAGE_SIZE,
    prelude::*,
    seq_file::SeqFile,
    types::{
        ForeignOwnable,
        Opaque, //
    }, //
};

/// A superblock of filesystem `T`.
///
/// # Invariants
///
/// The superblock was set up by [`fill_super::<T>`]: `s_fs_info` holds a `KBox<T::SbInfo>`
/// until `kill_sb` frees it after every inode has been evicted.
#[repr(transparent)]
pub(crate) struct SuperBlock<T: FileSystem>(Opaque<bindings::super_block>, PhantomData<T>);

impl<T: FileSystem> SuperBlock<T> {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a superblock of `T` set up by [`fill_super::<T>`] (or being set up,
    /// with `s_fs_info` already attached) that stays alive for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper of the C struct; the caller guarantees the
        // pointer is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw pointer.
    pub(super) fn as_ptr(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// Returns the user namespace the superblock belongs to (`s_user_ns`).
    pub(crate) fn user_ns(&self) -> UserNs<'_> {
        // SAFETY: The superblock holds a reference to its user namespace until it is freed.
        unsafe { UserNs::from_raw((*self.as_ptr()).s_user_ns) }
    }

    /// Returns the largest size a file may reach (`s_maxbytes`), read without a lock.
    ///
    /// A remount that raises it wakes the pollers of every file that then has room (see
    /// [`SuperParams::wake_files`]), so a poller that read the old value polls again.
    pub(crate) fn max_bytes(&self) -> i64 {
        // SAFETY: The superblock is live. `locustfs_sb_maxbytes()` is a `READ_ONCE()`: the
        // only writer is `apply()`, with `s_umount` held for writing, through
        // `WRITE_ONCE()`, so this sees the old or the new limit, never a mix.
        unsafe { bindings::locustfs_sb_maxbytes(self.as_ptr()) }
    }

    /// Returns the filesystem's state of this superblock.
    pub(crate) fn info(&self) -> &T::SbInfo {
        // SAFETY: `s_fs_info` holds a `KBox<T::SbInfo>` for as long as `self` lives (type
        // invariant).
        unsafe { <KBox<T::SbInfo> as ForeignOwnable>::borrow((*self.as_ptr()).s_fs_info) }
    }

    /// Applies limits and the root attributes that are set (at mount and remount), then wakes
    /// every regular file's pollers if `params` asks for it.
    pub(super) fn apply(&self, params: &SuperParams) {
        let sb = self.as_ptr();
        // SAFETY: The caller is `fill_super` or `reconfigure`, which the VFS serialises with
        // `s_umount` held for writing. C code (`generic_write_checks()`, `inode_newsize_ok()`)
        // reads `s_maxbytes` plainly without that lock and `max_bytes()` with a
        // `READ_ONCE()`; the `WRITE_ONCE()` here makes it a single store, so every reader
        // sees the old or the new limit, each a valid one.
        unsafe { bindings::locustfs_set_sb_maxbytes(sb, params.max_bytes) };
        // SAFETY: A set-up superblock has a root dentry with a directory inode of `T`.
        let root = unsafe { Inode::<T>::from_raw((*(*sb).s_root).d_inode) };
        root.set_owner_and_mode(params.root_uid, params.root_gid, params.root_mode);
        if params.wake_files {
            self.for_each_file(|inode, node| T::readiness_changed(inode, node, Change::Room));
        }
    }

    /// Calls `f` with every regular file of this superblock that is neither being set up nor
    /// torn down, and its state; `f` may sleep.
    ///
    /// The walk is `drop_pagecache_sb()`'s (`fs/drop_caches.c`): each inode is pinned with
    /// `__iget()` under its `i_lock`, then `s_inode_list_lock` is dropped while `f` runs, and
    /// the walk reschedules between inodes. So neither the list lock nor an inode's lock is
    /// held across `f` (a wake-up runs every epoll, io_uring and aio callback of the file),
    /// and a walk over `max_files` inodes, which an unprivileged mounter can start in a loop,
    /// cannot hog the CPU.
    pub(crate) fn for_each_file(&self, mut f: impl FnMut(&Inode<T>, &T::Node)) {
        let sb = self.as_ptr();
        let mut pinned: *mut bindings::inode = ptr::null_mut();
        // SAFETY: `sb` is live; `s_inodes` is a list of `inode.i_sb_list` entries protected by
        // `s_inode_list_lock`. An inode pinned by `__iget()` stays on the list (eviction
        // removes it only after the last `iput()`), so `pos`, the list entry of the inode
        // pinned last, is still linked when the walk takes the lock again and moves on.
        unsafe {
            let head = &raw mut (*sb).s_inodes;
            bindings::spin_lock(&raw mut (*sb).s_inode_list_lock);
            let mut pos = (*head).next;
            while pos != head {
                let inode: *mut bindings::inode =
                    kernel::container_of!(pos, bindings::inode, i_sb_list);
                bindings::spin_lock(&raw mut (*inode).i_lock);
                // Checked under `i_lock`, which eviction takes to set `I_FREEING` and
                // `make_node` to attach `i_private`: a regular file whose state is attached
                // keeps it until it is evicted, which the pin below prevents.
                if bindings::inode_state_read(inode) & bindings::LOCUSTFS_I_SKIP != 0
                    || Inode::<T>::from_raw(inode).node().is_none()
                {
                    bindings::spin_unlock(&raw mut (*inode).i_lock);
                    pos = (*pos).next;
                    continue;
                }
                bindings::__iget(inode);
                bindings::spin_unlock(&raw mut (*inode).i_lock);
                bindings::spin_unlock(&raw mut (*sb).s_inode_list_lock);
                // The reference taken above keeps the inode, and with it `i_private` (no longer
                // written: see above), alive.
                let file = Inode::<T>::from_raw(inode);
                if let Some(node) = file.node() {
                    f(file, &node);
                }
                // Dropping the previous pin may evict that inode: no lock may be held.
                bindings::iput(pinned);
                pinned = inode;
                bindings::locustfs_cond_resched();
                bindings::spin_lock(&raw mut (*sb).s_inode_list_lock);
                pos = (*pos).next;
            }
            bindings::spin_unlock(&raw mut (*sb).s_inode_list_lock);
            bindings::iput(pinned);
        }
    }
}

/// A `struct kstatfs` being filled in by `->statfs`.
///
/// # Invariants
///
/// Wraps a valid `kstatfs` that `simple_statfs` has already initialised.
pub(crate) struct StatFs<'a>(&'a mut bindings::kstatfs);

impl StatFs<'_> {
    /// Sets the total and free block counts, in units of [`PAGE_SIZE`].
    pub(crate) fn set_blocks(&mut self, total: u64, free: u64) {
        self.0.f_blocks = total;
        self.0.f_bfree = free;
        self.0.f_bavail = free;
    }

    /// Sets the total and free inode counts.
    pub(crate) fn set_files(&mut self, total: u64, free: u64) {
        self.0.f_files = total;
        self.0.f_ffree = free;
    }
}

/// `get_tree_nodev()`'s callback: sets up a new superblock and its root directory.
///
/// # Safety
///
/// Called by the VFS with a new superblock of `T` and the context set up by
/// `context::init_fs_context::<T>`.
pub(super) unsafe extern "C" fn fill_super<T: FileSystem>(
    sb: *mut bindings::super_block,
    fc: *mut bindings::fs_context,
) -> c_int {
    from_result(|| {
        // SAFETY: `fc` is the context of this mount (function safety requirement).
        let opts = unsafe { context::context_options::<T>(fc) };
        let (info, params) = T::new_sb_info(opts)?;
        let info = KBox::new(info, GFP_KERNEL)?;
        // SAFETY: `sb` is new and owned by this call; `kill_sb` frees `s_fs_info` even if the
        // rest of this function fails.
        unsafe {
            (*sb).s_blocksize = PAGE_SIZE as c_ulong;
            (*sb).s_blocksize_bits = PAGE_SIZE.trailing_zeros() as u8;
            (*sb).s_magic = T::MAGIC as c_ulong;
            (*sb).s_op = &SuperOps::<T>::OPS;
            (*sb).s_d_flags = bindings::LOCUSTFS_DCACHE_DONTCACHE;
            // Keeps `s_d_flags` and adds the flags of the operations present.
            bindings::set_default_d_op(sb, dentry_ops::dentry_operations::<T>());
            (*sb).s_time_gran = 1;
            // As tmpfs: a file found with nothing to drop (no set-id bits, and locustfs has no
            // security xattrs) is marked `S_NOSEC`, so later writes skip
            // `file_remove_privs()`'s checks until a mode change clears the mark
            // (`notify_change()`).
            (*sb).s_flags |= bindings::LOCUSTFS_SB_NOSEC;
            (*sb).s_fs_info = info.into_foreign();
        }
        // SAFETY: `s_fs_info` is attached, so `sb` is a superblock of `T` for `inode`.
        let sb_ref = unsafe { SuperBlock::<T>::from_raw(sb) };
        let root = inode::new_root::<T>(sb_ref)?;
        // SAFETY: `root` is a new inode of `sb`; `d_make_root` consumes it even on failure.
        let dentry = unsafe { bindings::d_make_root(root) };
        if dentry.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `sb` is owned by this call.
        unsafe { (*sb).s_root = dentry };
        sb_ref.apply(&params);
        Ok(0)
    })
}

/// `file_system_type->kill_sb`: tears the superblock down, then frees its state.
///
/// # Safety
///
/// Called by the VFS, once, with a superblock of `T` (possibly one whose `fill_super` failed).
pub(super) unsafe extern "C" fn kill_sb<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: `sb` is valid; `kill_anon_super` evicts every inode (which still uses
    // `s_fs_info`) and releases the anonymous device.
    unsafe { bindings::kill_anon_super(sb) };
    // SAFETY: The superblock structure itself is still valid here.
    let info = unsafe { ptr::replace(&raw mut (*sb).s_fs_info, ptr::null_mut()) };
    if !info.is_null() {
        // SAFETY: A non-null `s_fs_info` is the `KBox<T::SbInfo>` from `fill_super`, and no
        // inode is left to use it.
        drop(unsafe { <KBox<T::SbInfo> as ForeignOwnable>::from_foreign(info) });
    }
}

/// The superblock operations of `T`.
struct SuperOps<T>(PhantomData<T>);

impl<T: FileSystem> SuperOps<T> {
    const OPS: bindings::super_operations = bindings::super_operations {
        statfs: Some(statfs::<T>),
        drop_inode: Some(bindings::inode_just_drop),
        evict_inode: Some(inode::evict_inode::<T>),
        show_options: Some(show_options::<T>),
        ..pin_init::zeroed()
    };
}

/// `super_operations->statfs`: libfs's answer plus `T`'s block and inode counts.
///
/// # Safety
///
/// Called by the VFS with a dentry of a `T` superblock and a valid `kstatfs`.
unsafe extern "C" fn statfs<T: FileSystem>(
    dentry: *mut bindings::dentry,
    buf: *mut kernel::bindings::kstatfs,
) -> c_int {
    from_result(|| {
        // SAFETY: The arguments are valid (function safety requirement).
        kernel::error::to_result(unsafe { bindings::simple_statfs(dentry, buf) })?;
        // SAFETY: `dentry` belongs to a live superblock of `T`.
        let sb = unsafe { SuperBlock::<T>::from_raw((*dentry).d_sb) };
        // The kernel crate binds `kstatfs` opaquely; the module's bindings have its fields.
        // SAFETY: `buf` is valid and ours for this call.
        let buf = unsafe { &mut *buf.cast::<bindings::kstatfs>() };
        // INVARIANT: `simple_statfs` initialised `buf`.
        T::statfs(sb, &mut StatFs(buf));
        Ok(0)
    })
}

/// `super_operations->show_options`: the non-default options for `/proc/mounts`.
///
/// # Safety
///
/// Called by the VFS with a valid `seq_file` and the root dentry of a `T` superblock.
unsafe extern "C" fn show_options<T: FileSystem>(
    m: *mut bindings::seq_file,
    root: *mut bindings::dentry,
) -> c_int {
    // SAFETY: The arguments are valid for this call (function safety requirement); the
    // reader's namespace lives as long as the credentials of the file being read, which
    // outlives this call.
    let (reader, m, sb) = unsafe {
        (
            UserNs::from_raw(bindings::seq_user_ns(m)),
            SeqFile::from_raw(m),
            SuperBlock::<T>::from_raw((*root).d_sb),
        )
    };
    T::show_options(sb, m, reader);
    0
}
