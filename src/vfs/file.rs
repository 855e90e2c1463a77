// SPDX-License-Identifier: GPL-2.0

//! The file operations of regular files.
//!
//! Reads, mmap and splice are the page cache's generic paths. Writes are
//! `generic_perform_write` wrapped so that the size is charged to the filesystem first and
//! pollers are woken after; seeks are `generic_file_llseek` followed by a wake-up when the
//! position moved (readability depends on it). `open`, `release` and `poll` go to the
//! [`FileSystem`].
//!
//! `O_DIRECT` is accepted, as tmpfs accepts it (`shmem_file_open()`): the data lives in the
//! page cache, so direct I/O is served from it, reads by `filemap_read()` and writes by
//! `generic_perform_write()`, neither of which looks at `IOCB_DIRECT`.
//!
//! Reads and writes never wait for I/O (there is none), so files are opened `FMODE_NOWAIT`
//! and the operations carry `FOP_BUFFER_WASYNC`: io_uring then issues them with
//! `IOCB_NOWAIT` and completes them at once. Without both, io_uring finds a file it cannot
//! issue without blocking but can poll, and parks each read and write on `->poll` until
//! `EPOLLIN`/`EPOLLOUT`, which here speak of the description's position and of room: a read
//! at an offset with data from a description at the end of the file, or a write that would
//! fail with `EFBIG`, would wait for a change that may never come. Neither path returns
//! `-EAGAIN` for `IOCB_NOWAIT` (see [`read_iter`] and [`write_iter`]): what they may wait for
//! is a page allocation or a lock held across a copy in memory, never a device.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use super::{
    bindings,
    dentry::Dentry,
    inode::Inode,
    poll::Poller,
    Change,
    FileSystem, //
};
use core::{
    ffi::c_int,
    marker::PhantomData, //
};
use kernel::{
    error::from_result,
    fs::File,
    prelude::*,
    types::ForeignOwnable, //
};

/// The file operations of `T`'s regular files.
struct FileOps<T>(PhantomData<T>);

impl<T: FileSystem> FileOps<T> {
    const OPS: bindings::file_operations = bindings::file_operations {
        open: Some(open::<T>),
        release: Some(release::<T>),
        poll: Some(poll::<T>),
        read_iter: Some(read_iter),
        write_iter: Some(write_iter::<T>),
        llseek: Some(llseek::<T>),
        mmap_prepare: Some(bindings::generic_file_mmap_prepare),
        splice_read: Some(bindings::filemap_splice_read),
        splice_write: Some(bindings::iter_file_splice_write),
        fsync: Some(bindings::noop_fsync),
        fop_flags: bindings::LOCUSTFS_FOP_BUFFER_WASYNC,
        ..pin_init::zeroed()
    };
}

/// Returns the file operations of `T`'s regular files.
pub(super) fn file_operations<T: FileSystem>() -> &'static bindings::file_operations {
    &FileOps::<T>::OPS
}

/// Returns a file's position (`f_pos`), as a racy snapshot: poll reads it without the
/// position lock, as other pollable files do.
///
/// The value may be stale by the time it is used: a seek wakes the pollers after it moved the
/// position, so a poller that read the old one is woken and reads again.
pub(crate) fn file_pos(file: &File) -> i64 {
    // SAFETY: `file` is a valid file.
    unsafe { pos_racy(file.as_ptr()) }
}

/// Returns `file`'s position, read without `f_pos_lock`.
///
/// # Safety
///
/// `file` must be a valid file.
unsafe fn pos_racy(file: *mut bindings::file) -> i64 {
    // SAFETY: `file` is valid (function safety requirement). The VFS writes `f_pos` with plain
    // stores under `f_pos_lock`, or without it for a description only one task uses
    // (`fdget_pos()`); `locustfs_file_pos_racy()` is a `data_race(READ_ONCE())`, the
    // kernel's marked lockless read, which sees some position the description had.
    unsafe { bindings::locustfs_file_pos_racy(file) }
}

/// Returns the inode of a regular file of `T` and its state.
///
/// # Safety
///
/// `file` must be a valid open file whose operations are `FileOps::<T>::OPS`.
unsafe fn file_inode<'a, T: FileSystem>(file: *mut bindings::file) -> &'a Inode<T> {
    // SAFETY: An open file keeps its inode alive; the inode is a regular file of `T`.
    unsafe { Inode::from_raw((*file).f_inode) }
}

/// `file_operations->open`.
///
/// # Safety
///
/// Called by the VFS with a valid inode of `T` and the file being opened.
unsafe extern "C" fn open<T: FileSystem>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    from_result(|| {
        // SAFETY: `inode` is a regular file of `T` (function safety requirement).
        let inode = unsafe { Inode::<T>::from_raw(inode) };
        let node = inode.node().ok_or(EINVAL)?;
        // SAFETY: `file` is valid for the duration of this call.
        let open_file = T::open(inode, &node, unsafe { File::from_raw_file(file) })?;
        // SAFETY: `file` is being opened by us alone; `release` takes `private_data` back.
        // `FMODE_CAN_ODIRECT` lets `do_dentry_open()` accept `O_DIRECT` (and `fcntl()` set
        // it later), as `shmem_file_open()` does; `FMODE_NOWAIT` lets io_uring and
        // `RWF_NOWAIT` issue reads and writes without a worker or a poll: see the module
        // documentation.
        unsafe {
            (*file).private_data = open_file.into_foreign();
            (*file).f_mode |=
                bindings::LOCUSTFS_FMODE_CAN_ODIRECT | bindings::LOCUSTFS_FMODE_NOWAIT;
        }
        Ok(0)
    })
}

/// `file_operations->release`.
///
/// `__fput()` (`fs/file_table.c`) calls this after `eventpoll_release()` has unlinked every
/// epoll item watching this file, and before it drops the file's dentry and mount: the file's
/// state in `private_data` may go now and not earlier (see `docs/design.md`). The file's
/// reference count is already zero, so no [`File`] is made of it.
///
/// # Safety
///
/// Called by the VFS, once, with a file that [`open`] opened.
unsafe extern "C" fn release<T: FileSystem>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `file` is a file of `T`, alive for this call.
    let inode = unsafe { file_inode::<T>(file) };
    // SAFETY: `private_data` is what `open` stored, taken back once, here.
    let open_file = unsafe { T::OpenFile::from_foreign((*file).private_data) };
    // SAFETY: An open file holds a reference to its dentry until after `release`.
    let dentry = unsafe { Dentry::<T>::from_raw((*file).__bindgen_anon_1.f_path.dentry) };
    if let Some(node) = inode.node() {
        T::release(&node, dentry, open_file);
    }
    0
}

/// `file_operations->poll`.
///
/// # Safety
///
/// Called by the VFS with a file that [`open`] opened and a valid (or null) poll table.
unsafe extern "C" fn poll<T: FileSystem>(
    file: *mut bindings::file,
    table: *mut bindings::poll_table,
) -> bindings::__poll_t {
    // SAFETY: `file` is a file of `T`, alive for this call.
    let inode = unsafe { file_inode::<T>(file) };
    let Some(node) = inode.node() else {
        return 0;
    };
    // SAFETY: `private_data` holds what `open` stored until `release`, which cannot run
    // during `poll`.
    let open_file = unsafe { T::OpenFile::borrow((*file).private_data) };
    // SAFETY: `file` is valid, and `table` null or valid, for the duration of this call.
    let poller = unsafe { Poller::new(File::from_raw_file(file), table) };
    T::poll(inode, &node, open_file, &poller)
}

/// `file_operations->read_iter`: `filemap_read()`, for buffered and `O_DIRECT` reads alike.
///
/// `generic_file_read_iter()` would hand an `IOCB_DIRECT` read to `a_ops->direct_IO`, which
/// `ram_aops` does not have: the page cache is the file's only copy.
///
/// Under `IOCB_NOWAIT`, `filemap_read()` gives `-EAGAIN` (having read nothing) for a page it
/// would have to allocate (a hole) or find unlocked; the read is then done again without the
/// flag, as there is no I/O to wait for. Returning `-EAGAIN` would make io_uring wait on
/// `->poll` for `EPOLLIN`, which a description at the end of the file never gets.
///
/// # Safety
///
/// Called by the VFS with a valid `kiocb` on a file of `T` and a valid `iov_iter`.
unsafe extern "C" fn read_iter(iocb: *mut bindings::kiocb, to: *mut bindings::iov_iter) -> isize {
    // SAFETY: The arguments are valid (function safety requirement); nothing was read yet.
    let ret = unsafe { bindings::filemap_read(iocb, to, 0) };
    // SAFETY: `iocb` is valid, and this call owns it until it returns.
    let flags = unsafe { (*iocb).ki_flags };
    if ret != EAGAIN.to_errno() as isize || flags & bindings::LOCUSTFS_IOCB_NOWAIT == 0 {
        return ret;
    }
    // SAFETY: As above; `filemap_read()` left `to` and `ki_pos` untouched, having read
    // nothing, and the caller's flags are put back before returning.
    unsafe {
        (*iocb).ki_flags = flags & !bindings::LOCUSTFS_IOCB_NOWAIT;
        let ret = bindings::filemap_read(iocb, to, 0);
        (*iocb).ki_flags = flags;
        ret
    }
}

/// `file_operations->llseek`: `generic_file_llseek`, then a wake-up if the position moved.
///
/// `EPOLLIN` depends on the description's position, so seeking back over unread data makes it
/// readable; `generic_file_llseek` itself wakes nobody.
///
/// # Safety
///
/// Called by the VFS with a file of `T` (with `f_pos_lock` held where the VFS takes it).
unsafe extern "C" fn llseek<T: FileSystem>(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    whence: c_int,
) -> bindings::loff_t {
    // SAFETY: `file` is valid for this call. It may be a description whose position lock
    // `fdget_pos()` skipped (only this task uses it), so no `File` is made of it.
    let before = unsafe { pos_racy(file) };
    // SAFETY: The arguments are valid (function safety requirement).
    let ret = unsafe { bindings::generic_file_llseek(file, offset, whence) };
    if ret >= 0 && ret != before {
        // SAFETY: `file` is a file of `T`, alive for this call.
        let inode = unsafe { file_inode::<T>(file) };
        if let Some(node) = inode.node() {
            T::readiness_changed(inode, &node, Change::Data);
        }
    }
    ret
}

/// `file_operations->write_iter`: `generic_perform_write` with the size charged to `T`
/// first and pollers woken after.
///
/// Pollers are woken whenever the size changed, even by a write that failed: with a buffer
/// that faults, `generic_perform_write()` has already called `write_begin`/`write_end`, and
/// `simple_write_end()` sets `i_size` to the write's position even when it copied nothing.
///
/// `IOCB_NOWAIT` changes nothing: the inode lock is held only across copies in memory, and
/// `-EAGAIN` would make io_uring wait on `->poll` for `EPOLLOUT`, which a full file never
/// gets, for a write that would fail with `EFBIG` or write inside the file.
///
/// # Safety
///
/// Called by the VFS with a valid `kiocb` on a file of `T` and a valid `iov_iter`.
unsafe extern "C" fn write_iter<T: FileSystem>(
    iocb: *mut bindings::kiocb,
    from: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: `iocb` is valid and its file is a file of `T`.
    let inode = unsafe { file_inode::<T>((*iocb).ki_filp) };
    let Some(node) = inode.node() else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: The inode is valid; its lock serialises writers and truncation.
    unsafe { bindings::inode_lock(inode.as_ptr()) };
    let size_before = inode.size();
    // SAFETY: The arguments are valid and the inode is locked.
    let ret = unsafe { write_locked(inode, &node, iocb, from) };
    let resized = inode.size() != size_before;
    // SAFETY: Locked above.
    unsafe { bindings::inode_unlock(inode.as_ptr()) };
    if ret > 0 || resized {
        T::readiness_changed(inode, &node, Change::Data);
    }
    if ret <= 0 {
        return ret;
    }
    // SAFETY: `iocb` is valid; `ret` bytes were written.
    unsafe { bindings::generic_write_sync(iocb, ret) }
}

/// The locked part of [`write_iter`], as `__generic_file_write_iter` does it for the page
/// cache: limit checks, charge, privilege and time updates, copy.
///
/// A write that does not fit in the instance writes what fits and returns a short count, as
/// on tmpfs; one of which nothing fits fails with `ENOSPC`.
///
/// # Safety
///
/// Same as [`write_iter`], with the inode locked.
unsafe fn write_locked<T: FileSystem>(
    inode: &Inode<T>,
    node: &T::Node,
    iocb: *mut bindings::kiocb,
    from: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: The arguments are valid. This applies `O_APPEND`, `RLIMIT_FSIZE` and
    // `s_maxbytes` (shortening the write to what fits, `-EFBIG` if nothing does).
    let count = unsafe { bindings::generic_write_checks(iocb, from) };
    if count <= 0 {
        return count;
    }
    let sb = inode.super_block();
    // SAFETY: `iocb` is valid.
    let pos = unsafe { (*iocb).ki_pos };
    let end = pos + count as i64;
    let mut ret = 0;
    if end > inode.size() {
        match T::charge_size_up_to(sb, node, end) {
            Err(e) => return e.to_errno() as isize,
            // Nothing of the write fits; what was charged for the pages before `pos` is
            // settled below with the rest.
            Ok(fits) if fits <= pos => ret = ENOSPC.to_errno() as isize,
            // SAFETY: `from` is valid; this only shortens it.
            Ok(fits) if fits < end => unsafe {
                bindings::iov_iter_truncate(from, (fits - pos) as u64)
            },
            Ok(_) => {}
        }
    }
    if ret == 0 {
        // SAFETY: The arguments are valid and the inode is locked.
        ret = unsafe { bindings::file_modified((*iocb).ki_filp) } as isize;
    }
    if ret == 0 {
        // SAFETY: As above; this advances `ki_pos` by what it wrote.
        ret = unsafe { bindings::generic_perform_write(iocb, from) };
    }
    // A short or failed write charges only the size the file now has; settling a charge down
    // never fails.
    let _ = T::charge_size(sb, node, inode.size());
    ret
}
