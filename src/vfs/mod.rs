// SPDX-License-Identifier: GPL-2.0

//! A small VFS glue layer for a RAM filesystem built on libfs.
//!
//! Linux 7.3's `kernel` crate has no filesystem abstraction, so this module provides one, sized
//! to what locustfs needs: safe types over `struct super_block`, `struct inode`,
//! `struct dentry` and `struct fs_context`, and the C operation tables whose `extern "C"`
//! trampolines call a [`FileSystem`] implementation. It is the only part of locustfs that uses
//! `bindings::`; everything above it is safe Rust.
//!
//! The kernel's own machinery does the work wherever it can: the new mount API
//! (`get_tree_nodev`), the page cache with `ram_aops`, `generic_perform_write`,
//! `generic_file_read_iter`, `generic_file_llseek`, `generic_file_mmap_prepare`,
//! `filemap_splice_read`, and libfs's `simple_*` directory operations.
//!
//! C headers: [`include/linux/fs.h`], [`include/linux/fs_context.h`].
//!
//! [`include/linux/fs.h`]: srctree/include/linux/fs.h
//! [`include/linux/fs_context.h`]: srctree/include/linux/fs_context.h

pub(crate) mod bindings;
mod context;
mod dentry;
mod dentry_ops;
mod file;
mod ids;
mod inode;
mod poll;
mod registration;
mod super_block;

use kernel::{
    fs::File,
    prelude::*,
    seq_file::SeqFile,
    sync::Arc,
    types::ForeignOwnable, //
};

pub(crate) use context::{
    MountContext,
    ParamError, //
};
pub(crate) use dentry::{
    Dentry,
    NameLock, //
};
pub(crate) use file::file_pos;
pub(crate) use ids::{
    Kgid,
    Kuid,
    UserNs, //
};
pub(crate) use inode::Inode;
pub(crate) use poll::{
    PollQueue,
    Poller, //
};
pub(crate) use registration::{
    FsType,
    Registration, //
};
pub(crate) use super_block::{
    StatFs,
    SuperBlock, //
};

/// Poll bits, as `__poll_t` values.
pub(crate) mod poll_bits {
    use super::bindings;

    /// There is data to read.
    pub(crate) const EPOLLIN: u32 = bindings::LOCUSTFS_EPOLLIN;
    /// Normal data may be read.
    pub(crate) const EPOLLRDNORM: u32 = bindings::LOCUSTFS_EPOLLRDNORM;
    /// Writing is possible.
    pub(crate) const EPOLLOUT: u32 = bindings::LOCUSTFS_EPOLLOUT;
    /// Normal data may be written.
    pub(crate) const EPOLLWRNORM: u32 = bindings::LOCUSTFS_EPOLLWRNORM;
    /// Hang up.
    pub(crate) const EPOLLHUP: u32 = bindings::LOCUSTFS_EPOLLHUP;
}

/// The largest file size the page cache supports (`MAX_LFS_FILESIZE`).
pub(crate) const MAX_LFS_FILESIZE: i64 = bindings::LOCUSTFS_MAX_LFS_FILESIZE;

/// Total RAM in bytes, as `si_meminfo()` reports it.
pub(crate) fn total_ram_bytes() -> u64 {
    let mut info = core::mem::MaybeUninit::<bindings::sysinfo>::zeroed();
    // SAFETY: `info` is valid for writes of a `struct sysinfo`.
    unsafe { bindings::si_meminfo(info.as_mut_ptr()) };
    // SAFETY: `si_meminfo` initialised the fields read here, and zeroed memory is a valid
    // `struct sysinfo` for the rest.
    let info = unsafe { info.assume_init() };
    (info.totalram as u64).saturating_mul(u64::from(info.mem_unit))
}

/// Attributes the glue layer applies to a superblock and its root directory.
///
/// A remount sets only what it names: a root attribute left `None` keeps the value the root
/// has (possibly changed by `chmod` or `chown` since the mount), as on tmpfs.
pub(crate) struct SuperParams {
    /// Largest file size (`s_maxbytes`).
    pub(crate) max_bytes: i64,
    /// Root directory permission bits (`S_IALLUGO` part of `i_mode`), if set.
    pub(crate) root_mode: Option<u16>,
    /// Root directory owner, if set.
    pub(crate) root_uid: Option<Kuid>,
    /// Root directory group, if set.
    pub(crate) root_gid: Option<Kgid>,
    /// Whether a regular file may have room to grow that it had not (the size limit was
    /// raised): once the parameters are applied, [`FileSystem::readiness_changed`] is called
    /// for each with [`Change::Room`].
    pub(crate) wake_files: bool,
}

/// What changed about a regular file, as the glue layer reports it to
/// [`FileSystem::readiness_changed`]: which readiness may have risen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Data that some open file description has not read may have appeared: a write, a
    /// truncate that grew the file, or a seek that moved one description's position.
    Data,
    /// Only room to write may have appeared, the same for every description: a truncate that
    /// shrank the file, or a raised size limit. The file may still have no room (it can be
    /// larger than a limit lowered by a remount): the filesystem checks before it says so.
    Room,
}

/// A RAM filesystem whose regular files carry a [`FileSystem::Node`] and whose open files
/// carry a [`FileSystem::OpenFile`].
///
/// Directories are libfs directories; regular files live in the page cache. The glue layer calls
/// these methods from the matching C operations, with the locks documented on each.
///
/// Every filesystem of the glue layer may be mounted through an idmapped mount
/// (`FS_ALLOW_IDMAP`): each inode operation hands the mount's idmap to the VFS helpers that
/// create, check and change ownership (`inode_init_owner`, `setattr_prepare`,
/// `setattr_copy`, `generic_fillattr`, `generic_permission`), as tmpfs does.
pub(crate) trait FileSystem: Sized + Send + Sync + 'static {
    /// The filesystem type's name, as `mount -t` takes it.
    const NAME: &'static CStr;

    /// The superblock magic number reported by `statfs`.
    const MAGIC: u32;

    /// Whether a user with `CAP_SYS_ADMIN` in their own user namespace may mount an instance
    /// (`FS_USERNS_MOUNT`); if not, mounting needs `CAP_SYS_ADMIN` in the initial namespace.
    const USER_NS_MOUNT: bool;

    /// Mount options while a `fs_context` is being configured.
    type Options: Send;

    /// Per-superblock state, owned by the superblock.
    type SbInfo: Send + Sync;

    /// Per-regular-file state, owned (one reference) by the inode until it is evicted.
    type Node: Send + Sync;

    /// Per-open-file state, owned by `file->private_data` from `->open` to `->release`.
    type OpenFile: ForeignOwnable + Send + Sync;

    /// Returns the options a new context `ctx` starts from: the defaults for a new mount, the
    /// current ones (`current` is the superblock) for a remount.
    fn new_options(
        ctx: &MountContext<'_>,
        current: Option<&SuperBlock<Self>>,
    ) -> Result<Self::Options>;

    /// Applies one mount parameter of `ctx`; `value` is `None` for a flag.
    fn parse_param(
        ctx: &MountContext<'_>,
        opts: &mut Self::Options,
        key: &CStr,
        value: Option<&CStr>,
    ) -> Result<(), ParamError>;

    /// Creates the state of a new superblock from its options.
    fn new_sb_info(opts: &Self::Options) -> Result<(Self::SbInfo, SuperParams)>;

    /// Applies new options to a mounted superblock (`mount -o remount`).
    fn reconfigure(sb: &SuperBlock<Self>, opts: &Self::Options) -> Result<SuperParams>;

    /// Writes the non-default options for `/proc/mounts`, each as `,name=value`, with ids as
    /// `reader` (the user namespace of whoever opened the file) sees them.
    fn show_options(sb: &SuperBlock<Self>, m: &SeqFile, reader: UserNs<'_>);

    /// Fills in the block and inode counts of `statfs`.
    fn statfs(sb: &SuperBlock<Self>, st: &mut StatFs<'_>);

    /// Accounts a new inode (file or directory) against the superblock's limits.
    fn reserve_inode(sb: &SuperBlock<Self>) -> Result;

    /// Creates the state of a new regular file.
    fn new_node(sb: &SuperBlock<Self>) -> Result<Arc<Self::Node>>;

    /// Called when an inode is evicted, with the state of a regular file (`None` for a
    /// directory); returns what [`FileSystem::reserve_inode`] took.
    fn evict(sb: &SuperBlock<Self>, node: Option<Arc<Self::Node>>);

    /// Charges a regular file's new size against the limits. Called with the inode locked,
    /// before a truncate sets `i_size` to `size` (all or nothing), and after a write or
    /// truncate with the size the file actually has (which only ever releases a charge).
    fn charge_size(sb: &SuperBlock<Self>, node: &Self::Node, size: i64) -> Result;

    /// Charges as much of a regular file's growth to `size` as the limits allow, as a write
    /// does that writes what fits. Returns the size the file may now reach (at most `size`,
    /// at least its current charge), or an error if it may not grow at all. Called with the
    /// inode locked, before a write.
    fn charge_size_up_to(sb: &SuperBlock<Self>, node: &Self::Node, size: i64) -> Result<i64>;

    /// Called after something a regular file's readiness depends on changed: its contents or
    /// size (write, truncate, also a failed write that grew the file), an open file's
    /// position (a seek that moved it), or a limit (a remount, see
    /// [`SuperParams::wake_files`]); `change` says which. `inode` has the file's size and
    /// limit as they are after the change. Must not sleep (it may be called in atomic
    /// context).
    fn readiness_changed(inode: &Inode<Self>, node: &Self::Node, change: Change);

    /// Called after a regular file's name was removed by `unlink` or by a rename over it.
    fn name_removed(node: &Self::Node);

    /// `->open` of a regular file.
    fn open(inode: &Inode<Self>, node: &Self::Node, file: &File) -> Result<Self::OpenFile>;

    /// Returns whether a regular file is gone for good: no name and no opener left, so that
    /// no open can reach it again. Called for an open that reached the file through a jump
    /// (a `/proc/PID/fd/N` magic link), which then fails with `ENOENT` before `->open`.
    fn is_gone(node: &Self::Node) -> bool;

    /// Called when `open(O_CREAT)` created a regular file but the open then failed before
    /// `->open` (`security_file_open()`, a fanotify permission event or `break_lease()`
    /// refused it): `->release` will never run for that open. `name` is the new name, with
    /// its directory locked (by the VFS, for the create); `T` removes it if nobody opened the
    /// file meanwhile.
    fn create_failed(node: &Self::Node, name: NameLock<'_, Self>);

    /// `->release` of a regular file: called by `__fput()` after `eventpoll_release()`.
    ///
    /// No [`File`] is passed: the file's reference count is already zero here (`fput()`
    /// dropped it before `__fput()`), and a `File` would let safe code take a new reference
    /// to a file being freed.
    fn release(node: &Self::Node, dentry: &Dentry<Self>, open_file: Self::OpenFile);

    /// `->poll` of a regular file (`poller.file()`): returns the ready mask.
    fn poll(
        inode: &Inode<Self>,
        node: &Self::Node,
        open_file: <Self::OpenFile as ForeignOwnable>::Borrowed<'_>,
        poller: &Poller<'_>,
    ) -> u32;
}
