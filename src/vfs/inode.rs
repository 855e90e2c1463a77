// SPDX-License-Identifier: GPL-2.0

//! Inodes: creation, eviction, and the inode operations of directories and regular files.
//!
//! Directories are libfs directories (`simple_lookup`, `simple_rmdir`, `simple_rename`,
//! `simple_dir_operations`); regular files keep their data in the page cache with `ram_aops`,
//! unevictable and unmovable, as ramfs does: the mapping is `mapping_set_unevictable` and its
//! folios are allocated with `GFP_HIGHUSER`, not the default `GFP_HIGHUSER_MOVABLE` (`ram_aops`
//! has no `migrate_folio`, so a dirty RAM folio could not leave a movable pageblock).
//!
//! A regular file exists only while it is open, so it is created only by `open(O_CREAT)`,
//! through `atomic_open`, which creates and opens it in one step under the directory lock.
//! `->create` is then reached only by `mknod(S_IFREG)` and refuses it with `EPERM`.
//! Operations left out of the tables get the VFS's own errors: `link`, `symlink` and `mknod`
//! of special files fail with `EPERM`, `O_TMPFILE` with `EOPNOTSUPP`.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use super::{
    bindings,
    dentry::NameLock,
    file,
    ids::{
        Kgid,
        Kuid, //
    },
    super_block::SuperBlock,
    Change,
    FileSystem, //
};
use core::{
    ffi::{
        c_int,
        c_uint, //
    },
    marker::PhantomData,
    ptr, //
};
use kernel::{
    error::{
        from_result,
        to_result, //
    },
    prelude::*,
    sync::{
        Arc,
        ArcBorrow, //
    },
    types::{
        ForeignOwnable,
        Opaque, //
    }, //
};

/// An inode of filesystem `T`.
///
/// # Invariants
///
/// The inode belongs to a superblock of `T`. A regular file's `i_private` holds an
/// `Arc<T::Node>` from creation until eviction; a directory's is null.
#[repr(transparent)]
pub(crate) struct Inode<T: FileSystem>(Opaque<bindings::inode>, PhantomData<T>);

impl<T: FileSystem> Inode<T> {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an inode of `T` created by this module that stays alive for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper of the C struct; the caller guarantees the
        // pointer is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw pointer.
    pub(super) fn as_ptr(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// Returns the superblock this inode belongs to.
    pub(crate) fn super_block(&self) -> &SuperBlock<T> {
        // SAFETY: An inode keeps its superblock alive, and the superblock is one of `T` (type
        // invariant).
        unsafe { SuperBlock::from_raw((*self.as_ptr()).i_sb) }
    }

    /// Returns the file's size (`i_size_read`).
    pub(crate) fn size(&self) -> i64 {
        // SAFETY: The inode is valid.
        unsafe { bindings::i_size_read(self.as_ptr()) }
    }

    /// Returns the state of a regular file, `None` for a directory.
    pub(super) fn node(&self) -> Option<ArcBorrow<'_, T::Node>> {
        // SAFETY: The inode is valid; `i_private` is only written at creation and eviction.
        let ptr = unsafe { (*self.as_ptr()).i_private };
        // SAFETY: A non-null `i_private` holds an `Arc<T::Node>` until eviction, which cannot
        // happen while `self` is borrowed (type invariant).
        (!ptr.is_null()).then(|| unsafe { <Arc<T::Node> as ForeignOwnable>::borrow(ptr) })
    }

    /// Sets those of owner, group and permission bits that are given (used on the root
    /// directory).
    pub(super) fn set_owner_and_mode(
        &self,
        uid: Option<Kuid>,
        gid: Option<Kgid>,
        mode: Option<u16>,
    ) {
        let inode = self.as_ptr();
        // SAFETY: The inode is valid. Its attributes are written under its lock, as
        // `notify_change` does.
        unsafe {
            bindings::inode_lock(inode);
            if let Some(uid) = uid {
                (*inode).i_uid = uid.0;
            }
            if let Some(gid) = gid {
                (*inode).i_gid = gid.0;
            }
            if let Some(mode) = mode {
                (*inode).i_mode = ((*inode).i_mode & !(bindings::S_IALLUGO as u16)) | mode;
            }
            bindings::inode_unlock(inode);
        }
    }
}

/// The inode operations of `T`'s directories and regular files.
struct InodeOps<T>(PhantomData<T>);

impl<T: FileSystem> InodeOps<T> {
    const DIR: bindings::inode_operations = bindings::inode_operations {
        create: Some(create::<T>),
        atomic_open: Some(atomic_open::<T>),
        lookup: Some(bindings::simple_lookup),
        unlink: Some(unlink::<T>),
        mkdir: Some(mkdir::<T>),
        rmdir: Some(bindings::simple_rmdir),
        rename: Some(rename::<T>),
        ..pin_init::zeroed()
    };

    const FILE: bindings::inode_operations = bindings::inode_operations {
        setattr: Some(setattr::<T>),
        getattr: Some(getattr),
        ..pin_init::zeroed()
    };
}

/// Allocates an inode of `sb` with `mode`, owned as `inode_init_owner` decides.
///
/// The inode is accounted by [`FileSystem::reserve_inode`]; a regular file gets a new
/// [`FileSystem::Node`]. On error nothing is left allocated or accounted.
///
/// # Safety
///
/// `idmap` must be valid and `dir` null or a valid directory inode of `sb`.
unsafe fn new_inode<T: FileSystem>(
    sb: &SuperBlock<T>,
    idmap: *mut bindings::mnt_idmap,
    dir: *const bindings::inode,
    mode: bindings::umode_t,
) -> Result<*mut bindings::inode> {
    let is_file = u32::from(mode) & bindings::S_IFMT == bindings::S_IFREG;
    T::reserve_inode(sb)?;
    let node = match is_file.then(|| T::new_node(sb)).transpose() {
        Ok(node) => node,
        Err(e) => {
            T::evict(sb, None);
            return Err(e);
        }
    };
    // SAFETY: `sb` is a live superblock.
    let inode = unsafe { bindings::new_inode(sb.as_ptr()) };
    if inode.is_null() {
        T::evict(sb, node);
        return Err(ENOMEM);
    }
    // SAFETY: `inode` is new and ours; `idmap` and `dir` are valid (function safety
    // requirement); the tables are static. From here on, eviction (`iput`) undoes everything.
    unsafe {
        (*inode).i_ino = bindings::get_next_ino().into();
        bindings::inode_init_owner(idmap, inode, dir, mode);
        // Directories get their own lock class now that `i_mode` is known, as shmem does:
        // the last-close removal locks a file's inode inside its directory's.
        bindings::lockdep_annotate_inode_mutex_key(inode);
        (*(*inode).i_mapping).a_ops = &bindings::ram_aops;
        bindings::mapping_set_gfp_mask((*inode).i_mapping, bindings::LOCUSTFS_GFP_HIGHUSER);
        bindings::mapping_set_unevictable((*inode).i_mapping);
        bindings::simple_inode_init_ts(inode);
        match node {
            Some(node) => {
                (*inode).i_op = &InodeOps::<T>::FILE;
                (*inode).__bindgen_anon_3.i_fop = file::file_operations::<T>();
                // Under `i_lock`: `SuperBlock::for_each_file` may already see the inode on
                // `s_inodes` and checks `i_private` with that lock held.
                bindings::spin_lock(&raw mut (*inode).i_lock);
                (*inode).i_private = node.into_foreign();
                bindings::spin_unlock(&raw mut (*inode).i_lock);
            }
            None => {
                (*inode).i_op = &InodeOps::<T>::DIR;
                (*inode).__bindgen_anon_3.i_fop = &bindings::simple_dir_operations;
                // A directory starts with two links: its name and its ".".
                bindings::inc_nlink(inode);
            }
        }
    }
    Ok(inode)
}

/// Creates the root directory of a new superblock.
pub(super) fn new_root<T: FileSystem>(sb: &SuperBlock<T>) -> Result<*mut bindings::inode> {
    // SAFETY: `nop_mnt_idmap` is static; a null `dir` is allowed for the root.
    unsafe {
        new_inode(
            sb,
            &raw mut bindings::nop_mnt_idmap,
            ptr::null(),
            (bindings::S_IFDIR | 0o755) as bindings::umode_t,
        )
    }
}

/// Creates an inode for a new name `dentry` in `dir` and pins the dentry, as libfs does.
///
/// # Safety
///
/// Called from a directory operation of `T` with valid arguments, `dir` locked.
unsafe fn make_node<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
) -> Result {
    // SAFETY: `dir` is a directory inode of `T` (function safety requirement).
    let sb = unsafe { Inode::<T>::from_raw(dir) }.super_block();
    // SAFETY: The arguments are valid (function safety requirement).
    let inode = unsafe { new_inode(sb, idmap, dir, mode)? };
    // SAFETY: `inode`, `dir` and `dentry` are valid; on failure `iput` evicts the new inode.
    unsafe {
        let ret = bindings::security_inode_init_security(
            inode,
            dir,
            &raw const (*dentry).__bindgen_anon_1.d_name,
            None,
            ptr::null_mut(),
        );
        if let Err(e) = to_result(ret) {
            bindings::iput(inode);
            return Err(e);
        }
        if u32::from(mode) & bindings::S_IFMT == bindings::S_IFREG {
            // Nothing may be mounted on a file whose name dies with its last opener: the
            // mount would be left on a dead dentry, unreachable and keeping the instance busy.
            // The flag is sticky; `lock_mount()` refuses it with `ENOENT`.
            bindings::dont_mount(dentry);
        }
        bindings::d_make_persistent(dentry, inode);
        bindings::inode_set_mtime_to_ts(dir, bindings::inode_set_ctime_current(dir));
    }
    Ok(())
}

/// `inode_operations->create`: only `mknod(S_IFREG)` gets here (`open(O_CREAT)` goes through
/// [`atomic_open`]), and a file nobody has open cannot exist.
///
/// # Safety
///
/// Called by the VFS with valid arguments and `dir` locked.
unsafe extern "C" fn create<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    _dir: *mut bindings::inode,
    _dentry: *mut bindings::dentry,
    _mode: bindings::umode_t,
) -> c_int {
    EPERM.to_errno()
}

/// `inode_operations->atomic_open`: looks the name up and, for `O_CREAT` of a missing name,
/// creates the file and opens it before the directory lock is released, so no one can see it
/// with no opener.
///
/// `finish_open()` runs `security_file_open()`, the fanotify permission event and
/// `break_lease()` before `->open`; if one of them refuses, the file is not opened and
/// `->release` will never run for it. The new name is then handed to
/// [`FileSystem::create_failed`] while the directory is still locked.
///
/// Once `->open` succeeded, `do_dentry_open()` marks the file opened (`FMODE_OPENED`) and in
/// 7.3 can then fail only on `O_DIRECT` without `FMODE_CAN_ODIRECT`, which `->open` always
/// sets: an opened create does not fail here, so its `->release` never removes a name that
/// `lookup_open()` did not announce with `fsnotify_create()`.
///
/// # Safety
///
/// Called by `lookup_open()` with `dir` locked (exclusively for `O_CREAT`), a negative or
/// in-lookup `dentry` of `dir`, and the file being opened.
unsafe extern "C" fn atomic_open<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    file: *mut bindings::file,
    open_flag: c_uint,
    mode: bindings::umode_t,
) -> c_int {
    from_result(|| {
        let mut found = ptr::null_mut();
        // SAFETY: `dentry` is valid (function safety requirement).
        if unsafe { bindings::d_in_lookup(dentry) } != 0 {
            // SAFETY: `dentry` is in lookup in the locked `dir`, as `simple_lookup` needs.
            found =
                kernel::error::from_err_ptr(unsafe { bindings::simple_lookup(dir, dentry, 0) })?;
        }
        let dentry = if found.is_null() { dentry } else { found };
        // SAFETY: `dentry` is valid.
        let positive = unsafe { !(*dentry).d_inode.is_null() };
        if open_flag & bindings::O_CREAT == 0 || positive {
            // SAFETY: `file` is being opened; `found` is null or the dentry to use instead,
            // whose reference `finish_no_open` takes over.
            return to_result(unsafe { bindings::finish_no_open(file, found) }).map(|()| 0);
        }
        let mode = mode | bindings::S_IFREG as bindings::umode_t;
        // SAFETY: `file` is being opened through the mount `atomic_open()` stored in its path,
        // whose idmap lives as long as the mount.
        let idmap = unsafe { bindings::file_mnt_idmap(file) };
        // SAFETY: `dir` is locked exclusively for `O_CREAT`; `dentry` is a negative child of
        // it; the new file is owned as the mount's idmap maps the opener's fsuid and fsgid.
        unsafe { make_node::<T>(idmap, dir, dentry, mode)? };
        // SAFETY: `file` is being opened by us; `finish_open` calls `->open` on the new file.
        let opened = unsafe {
            (*file).f_mode |= bindings::LOCUSTFS_FMODE_CREATED;
            to_result(bindings::finish_open(file, dentry, None))
        };
        if let Err(e) = opened {
            // SAFETY: `file` is valid.
            if unsafe { (*file).f_mode } & bindings::LOCUSTFS_FMODE_OPENED == 0 {
                // SAFETY: `dentry` is the positive dentry `make_node` just made, referenced by
                // the VFS's lookup and by its persistence, in `dir`, which the VFS keeps locked
                // until this returns.
                let (child, inode) = unsafe {
                    (
                        super::dentry::Dentry::<T>::from_raw(dentry),
                        Inode::<T>::from_raw((*dentry).d_inode),
                    )
                };
                if let Some(node) = inode.node() {
                    // SAFETY: As above.
                    T::create_failed(&node, unsafe { NameLock::held_by_vfs(child) });
                }
            }
            return Err(e);
        }
        Ok(0)
    })
}

/// `inode_operations->mkdir`.
///
/// # Safety
///
/// Called by the VFS with valid arguments and `dir` locked.
unsafe extern "C" fn mkdir<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
) -> *mut bindings::dentry {
    let mode = mode | bindings::S_IFDIR as bindings::umode_t;
    // SAFETY: The arguments come from the VFS (function safety requirement).
    match unsafe { make_node::<T>(idmap, dir, dentry, mode) } {
        // SAFETY: `dir` is valid and locked; the new directory's ".." links to it.
        Ok(()) => unsafe {
            bindings::inc_nlink(dir);
            ptr::null_mut()
        },
        Err(e) => e.to_ptr(),
    }
}

/// Tells `T` that the regular file `inode` (if it is one) lost its name.
///
/// # Safety
///
/// `inode` must be null or a valid inode of `T`.
unsafe fn name_removed<T: FileSystem>(inode: *mut bindings::inode) {
    if inode.is_null() {
        return;
    }
    // SAFETY: `inode` is a valid inode of `T` (function safety requirement).
    if let Some(node) = unsafe { Inode::<T>::from_raw(inode) }.node() {
        T::name_removed(&node);
    }
}

/// `inode_operations->unlink`: libfs's unlink, then `EPOLLHUP` for the file's pollers.
///
/// # Safety
///
/// Called by the VFS with valid arguments, `dir` and the victim locked.
unsafe extern "C" fn unlink<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> c_int {
    // SAFETY: `dentry` is a positive dentry of `T`; the VFS holds a reference to its inode.
    let inode = unsafe { (*dentry).d_inode };
    // SAFETY: The arguments are valid (function safety requirement).
    let ret = unsafe { bindings::simple_unlink(dir, dentry) };
    if ret == 0 {
        // SAFETY: `inode` is valid (see above).
        unsafe { name_removed::<T>(inode) };
    }
    ret
}

/// `inode_operations->rename`: libfs's rename; only `RENAME_NOREPLACE` is supported.
///
/// # Safety
///
/// Called by the VFS with valid arguments and the directories and victims locked.
unsafe extern "C" fn rename<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    old_dir: *mut bindings::inode,
    old_dentry: *mut bindings::dentry,
    new_dir: *mut bindings::inode,
    new_dentry: *mut bindings::dentry,
    flags: c_uint,
) -> c_int {
    if flags & !bindings::RENAME_NOREPLACE != 0 {
        return EINVAL.to_errno();
    }
    // SAFETY: `new_dentry` is valid; a positive one is the victim, locked by the VFS.
    let victim = unsafe { (*new_dentry).d_inode };
    // SAFETY: The arguments are valid (function safety requirement).
    let ret =
        unsafe { bindings::simple_rename(idmap, old_dir, old_dentry, new_dir, new_dentry, flags) };
    if ret == 0 {
        // SAFETY: `victim` is null or a valid inode of `T` the VFS holds a reference to.
        unsafe { name_removed::<T>(victim) };
    }
    ret
}

/// `inode_operations->setattr` of a regular file: `simple_setattr()`'s steps, with a size
/// change charged to `T` first and pollers woken after. `setattr_prepare()` runs once.
///
/// # Safety
///
/// Called by the VFS with valid arguments and the inode locked.
unsafe extern "C" fn setattr<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    attr: *mut bindings::iattr,
) -> c_int {
    from_result(|| {
        // SAFETY: `dentry` is a positive dentry of a regular file of `T`.
        let inode = unsafe { Inode::<T>::from_raw((*dentry).d_inode) };
        let node = inode.node().ok_or(EINVAL)?;
        let sb = inode.super_block();
        // SAFETY: The arguments are valid (function safety requirement).
        to_result(unsafe { bindings::setattr_prepare(idmap, dentry, attr) })?;
        // SAFETY: `attr` is valid.
        let (valid, new_size) = unsafe { ((*attr).ia_valid, (*attr).ia_size) };
        let old_size = inode.size();
        let resize = valid & bindings::ATTR_SIZE != 0 && new_size != old_size;
        if resize {
            T::charge_size(sb, &node, new_size)?;
        }
        // SAFETY: The arguments are valid, the inode locked and the change checked by
        // `setattr_prepare`: the rest of `simple_setattr`.
        unsafe {
            if valid & bindings::ATTR_SIZE != 0 {
                bindings::truncate_setsize(inode.as_ptr(), new_size);
            }
            bindings::setattr_copy(idmap, inode.as_ptr(), attr);
            bindings::mark_inode_dirty(inode.as_ptr());
        }
        if resize {
            // Settling to the size the file now has only ever releases a charge.
            let _ = T::charge_size(sb, &node, inode.size());
            // Shrinking can only make room: it wakes writers alone (`Change::Room`), growing
            // adds zeroes that open files may read.
            let change = if new_size < old_size {
                Change::Room
            } else {
                Change::Data
            };
            T::readiness_changed(inode, &node, change);
        }
        Ok(0)
    })
}

/// `inode_operations->getattr` of a regular file: `simple_getattr()` with the mount's idmap.
///
/// `simple_getattr()` fills in the owner with `nop_mnt_idmap`, so through an idmapped mount
/// it would show the instance's ids instead of the mapped ones; shmem has its own getattr for
/// the same reason.
///
/// # Safety
///
/// Called by the VFS with valid arguments; `path` names a positive dentry.
unsafe extern "C" fn getattr(
    idmap: *mut bindings::mnt_idmap,
    path: *const bindings::path,
    stat: *mut bindings::kstat,
    request_mask: u32,
    _query_flags: c_uint,
) -> c_int {
    // SAFETY: The arguments are valid (function safety requirement); the VFS holds a
    // reference to the dentry and so to its inode.
    unsafe {
        let inode = (*(*path).dentry).d_inode;
        bindings::generic_fillattr(idmap, request_mask, inode, stat);
        // In 512-byte units, as `simple_getattr()` counts them.
        (*stat).blocks = ((*(*inode).i_mapping).nrpages as u64) << (bindings::PAGE_SHIFT - 9);
    }
    0
}

/// `super_operations->evict_inode`: drops the page cache, then `T`'s state of the inode.
///
/// # Safety
///
/// Called by the VFS, once, with an inode of `T` that has no users left.
pub(super) unsafe extern "C" fn evict_inode<T: FileSystem>(inode: *mut bindings::inode) {
    // SAFETY: `inode` is valid and being evicted by us alone.
    let private = unsafe {
        bindings::truncate_inode_pages_final(&raw mut (*inode).i_data);
        bindings::clear_inode(inode);
        ptr::replace(&raw mut (*inode).i_private, ptr::null_mut())
    };
    // SAFETY: A non-null `i_private` is the `Arc<T::Node>` stored at creation, taken back once.
    let node = (!private.is_null())
        .then(|| unsafe { <Arc<T::Node> as ForeignOwnable>::from_foreign(private) });
    // SAFETY: The superblock outlives its inodes.
    let sb = unsafe { SuperBlock::<T>::from_raw((*inode).i_sb) };
    T::evict(sb, node);
}
