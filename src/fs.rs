// SPDX-License-Identifier: GPL-2.0

//! The locustfs filesystem: RAM files that delete themselves when their last opener closes
//! them, and whose open files report readable data, room to write and removal to pollers.

use crate::{
    limits::{
        self,
        Usage, //
    },
    node::{
        Node,
        WaitQueue, //
    },
    options::{
        Ceiling,
        Options, //
    },
    stats,
    users::UserCharge,
    vfs::{
        self,
        file_pos,
        Change,
        Dentry,
        FileSystem,
        Inode,
        Kgid,
        Kuid,
        MountContext,
        NameLock,
        ParamError,
        Poller,
        StatFs,
        SuperBlock,
        SuperParams,
        UserNs, //
    },
};
use kernel::{
    fs::File,
    new_spinlock,
    page::PAGE_SIZE, //
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::{
        Arc,
        ArcBorrow,
        SpinLock, //
    },
};

/// The locustfs filesystem type.
pub(crate) struct Locustfs;

/// The state of one locustfs instance (one mount).
pub(crate) struct Instance {
    /// The current options and usage; the lock also orders charges against remounts.
    inner: Pin<KBox<SpinLock<InstanceInner>>>,
    /// The host user charged for this instance's data as well, for an instance in a user
    /// namespace (see [`crate::users`]); taken after `inner` when both are.
    user: Option<UserCharge>,
}

/// What [`Instance::inner`] protects.
struct InstanceInner {
    opts: Options,
    usage: Usage,
}

impl Instance {
    /// Returns a copy of the current options.
    fn options(&self) -> Options {
        self.inner.lock().opts
    }
}

/// The options of a mount or remount being configured, and which root attributes it names.
pub(crate) struct MountOptions {
    /// The options: the defaults, or for a remount the current ones, changed by each
    /// parameter.
    opts: Options,
    /// A `mode=` parameter was given.
    names_mode: bool,
    /// A `uid=` parameter was given.
    names_uid: bool,
    /// A `gid=` parameter was given.
    names_gid: bool,
    /// The host user answerable for the mounter's user namespace.
    host_user: Option<Kuid>,
}

impl MountOptions {
    /// Returns the root attributes to apply: all of them for a new mount; for a remount only
    /// those it names, as tmpfs does, so that a `chmod` or `chown` of the root survives a
    /// remount that changes something else.
    fn root_attrs(&self, remount: bool) -> (Option<u16>, Option<Kuid>, Option<Kgid>) {
        let pick = |named: bool| !remount || named;
        (
            pick(self.names_mode).then_some(self.opts.mode),
            pick(self.names_uid).then_some(self.opts.uid),
            pick(self.names_gid).then_some(self.opts.gid),
        )
    }
}

/// Returns the parameters the glue layer applies for `mo`; `old_limit` is the file size limit
/// a remount replaces (`None` for a new mount).
fn super_params(mo: &MountOptions, old_limit: Option<i64>) -> SuperParams {
    let max_bytes = mo.opts.file_size_limit(vfs::MAX_LFS_FILESIZE);
    let (root_mode, root_uid, root_gid) = mo.root_attrs(old_limit.is_some());
    SuperParams {
        max_bytes,
        root_mode,
        root_uid,
        root_gid,
        // A higher limit can make a full file writable: its writers must be woken.
        wake_files: old_limit.is_some_and(|old| max_bytes > old),
    }
}

/// Returns the default options on this machine of an instance in user namespace `ns` whose
/// root directory belongs to `owner`.
fn default_options(ns: &UserNs<'_>, owner: (Kuid, Kgid)) -> Options {
    Options::defaults(vfs::total_ram_bytes(), owner, !ns.is_initial())
}

impl FileSystem for Locustfs {
    const NAME: &'static CStr = c"locustfs";
    /// "locu".
    const MAGIC: u32 = 0x6c6f_6375;
    /// Like tmpfs: containers and sandboxes mount instances of their own (see the threat model
    /// in `docs/design.md`).
    const USER_NS_MOUNT: bool = true;

    type Options = MountOptions;
    type SbInfo = Instance;
    type Node = Node;
    type OpenFile = Arc<WaitQueue>;

    /// A new mount's root belongs to the mounter's fsuid and fsgid, as on tmpfs.
    fn new_options(
        ctx: &MountContext<'_>,
        current: Option<&SuperBlock<Self>>,
    ) -> Result<MountOptions> {
        let ns = ctx.user_ns();
        Ok(MountOptions {
            opts: current.map_or_else(
                || default_options(&ns, ctx.mounter_fs_ids()),
                |sb| sb.info().options(),
            ),
            names_mode: false,
            names_uid: false,
            names_gid: false,
            host_user: ns.host_user(),
        })
    }

    fn parse_param(
        ctx: &MountContext<'_>,
        mo: &mut MountOptions,
        key: &CStr,
        value: Option<&CStr>,
    ) -> Result<(), ParamError> {
        let key = key.to_bytes();
        let value = value.map(CStr::to_bytes);
        let ns = ctx.user_ns();
        // A mounter outside the initial user namespace needs no privilege on the host: its
        // `size=` and `max_files=` are bounded.
        let ceiling = (!ns.is_initial()).then(|| Ceiling::user_ns(vfs::total_ram_bytes()));
        mo.opts.set(key, value, &ns, ceiling.as_ref())?;
        match key {
            b"mode" => mo.names_mode = true,
            b"uid" => mo.names_uid = true,
            b"gid" => mo.names_gid = true,
            _ => {}
        }
        Ok(())
    }

    fn new_sb_info(mo: &MountOptions) -> Result<(Instance, SuperParams)> {
        let inner = KBox::pin_init(
            new_spinlock!(InstanceInner {
                opts: mo.opts,
                usage: Usage::default(),
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        let user = mo.host_user.map(UserCharge::new).transpose()?;
        Ok((Instance { inner, user }, super_params(mo, None)))
    }

    /// Refuses limits below what is in use: `size=` below the bytes, `max_files=` below the
    /// files and directories, and a file size limit below the largest file, whose bytes past
    /// the limit `filemap_read()` would no longer return (it stops at `s_maxbytes`) while
    /// `->poll` still reported them readable.
    fn reconfigure(sb: &SuperBlock<Self>, mo: &MountOptions) -> Result<SuperParams> {
        let opts = &mo.opts;
        let limit = opts.file_size_limit(vfs::MAX_LFS_FILESIZE);
        // Not under the instance lock: the walk reschedules. A write racing with the remount
        // may still grow a file past the new limit before it applies; keys stay right
        // (`readiness_changed` checks for room) and the next write fails with `EFBIG`.
        let mut largest = 0;
        sb.for_each_file(|inode, _| largest = largest.max(inode.size()));
        if limit < largest {
            pr_warn!(
                "max_file_size={} is below the {} bytes of the largest file\n",
                limit,
                largest
            );
            return Err(EINVAL);
        }
        let mut inner = sb.info().inner.lock();
        if opts.size < inner.usage.bytes {
            pr_warn!(
                "size={} is below the {} bytes in use\n",
                opts.size,
                inner.usage.bytes
            );
            return Err(EINVAL);
        }
        if opts.max_files < inner.usage.files() {
            pr_warn!(
                "max_files={} is below the {} files in use\n",
                opts.max_files,
                inner.usage.files()
            );
            return Err(EINVAL);
        }
        let old_limit = inner.opts.file_size_limit(vfs::MAX_LFS_FILESIZE);
        inner.opts = *opts;
        Ok(super_params(mo, Some(old_limit)))
    }

    /// Ids are shown unless they are the instance's namespace's root, as tmpfs shows them
    /// unless they are the host's root.
    fn show_options(sb: &SuperBlock<Self>, m: &SeqFile, reader: UserNs<'_>) {
        let opts = sb.info().options();
        let ns = sb.user_ns();
        let root = (
            ns.kuid(0).unwrap_or(opts.uid),
            ns.kgid(0).unwrap_or(opts.gid),
        );
        // Writing to a seq_file cannot fail: on overflow the VFS retries with a larger buffer.
        let _ = opts.write_changes(&default_options(&ns, root), &reader, &mut ShowOptions(m));
    }

    fn statfs(sb: &SuperBlock<Self>, st: &mut StatFs<'_>) {
        let inner = sb.info().inner.lock();
        let page = PAGE_SIZE as u64;
        st.set_blocks(
            inner.opts.size / page,
            inner.opts.size.saturating_sub(inner.usage.bytes) / page,
        );
        st.set_files(
            inner.opts.max_files,
            inner.opts.max_files.saturating_sub(inner.usage.files()),
        );
    }

    fn reserve_inode(sb: &SuperBlock<Self>) -> Result {
        let mut inner = sb.info().inner.lock();
        let max_files = inner.opts.max_files;
        inner.usage.add_inode(max_files).map_err(|_| ENOSPC)
    }

    fn new_node(_sb: &SuperBlock<Self>) -> Result<Arc<Node>> {
        Node::new()
    }

    fn evict(sb: &SuperBlock<Self>, node: Option<Arc<Node>>) {
        let mut inner = sb.info().inner.lock();
        if let Some(node) = &node {
            let charged = node.charged();
            // Releasing a charge never fails.
            let _ = inner.usage.recharge(charged, 0, 0);
            if let Some(user) = &sb.info().user {
                let _ = user.recharge(charged, 0);
            }
            stats::BYTES_IN_USE.add(-(charged as i64));
        }
        inner.usage.remove_inode();
        drop(inner);
        // The node (and with it the queue) is dropped outside the instance lock.
        drop(node);
    }

    fn charge_size(sb: &SuperBlock<Self>, node: &Node, size: i64) -> Result {
        let (old, new) = (node.charged(), limits::charge_for(size));
        if old == new {
            return Ok(());
        }
        let info = sb.info();
        let mut inner = info.inner.lock();
        let limit = inner.opts.size;
        inner.usage.recharge(old, new, limit).map_err(|_| ENOSPC)?;
        if let Some(user) = &info.user {
            if user.recharge(old, new).is_err() {
                // Undoing a charge that was just taken never fails.
                let _ = inner.usage.recharge(new, old, limit);
                return Err(ENOSPC);
            }
        }
        drop(inner);
        node.set_charged(new);
        stats::BYTES_IN_USE.add(new as i64 - old as i64);
        Ok(())
    }

    /// Grows the file's charge by the whole pages that fit in `size=` (and, in a user
    /// namespace, in the user's bound), as tmpfs writes what fits before `ENOSPC`.
    fn charge_size_up_to(sb: &SuperBlock<Self>, node: &Node, size: i64) -> Result<i64> {
        let (old, want) = (node.charged(), limits::charge_for(size));
        if want <= old {
            return Ok(size);
        }
        let info = sb.info();
        let mut inner = info.inner.lock();
        let limit = inner.opts.size;
        let mut new = inner.usage.grow_up_to(old, want, limit);
        if let Some(user) = &info.user {
            let granted = user.grow_up_to(old, new);
            if granted < new {
                // Giving back what the user's bound did not allow never fails.
                let _ = inner.usage.recharge(new, granted, limit);
                new = granted;
            }
        }
        drop(inner);
        node.set_charged(new);
        stats::BYTES_IN_USE.add(new as i64 - old as i64);
        Ok(size.min(i64::try_from(new).unwrap_or(i64::MAX)))
    }

    /// Wakes the file's pollers; a room wake-up only if the file now has room, since its
    /// `EPOLLOUT` key is taken as the result by io_uring and aio polls.
    fn readiness_changed(inode: &Inode<Self>, node: &Node, change: Change) {
        if change == Change::Room
            && !limits::has_room(inode.size(), inode.super_block().max_bytes())
        {
            // Still full: a shrink that stays above a limit lowered by a remount, or a raised
            // limit still below the size. No readiness rose.
            return;
        }
        node.readiness_changed(change);
    }

    fn name_removed(node: &Node) {
        node.name_removed();
    }

    fn open(_inode: &Inode<Self>, node: &Node, file: &File) -> Result<Arc<WaitQueue>> {
        node.open(file.flags() & kernel::fs::file::flags::O_CREAT != 0)
    }

    /// Returns whether the file is gone; an open that found it so (through a `/proc` magic
    /// link) is counted in `opens_after_last_close`.
    fn is_gone(node: &Node) -> bool {
        let gone = node.is_gone();
        if gone {
            stats::OPENS_AFTER_LAST_CLOSE.inc();
        }
        gone
    }

    /// Removes the name of a file whose creating open failed, unless someone joined it.
    fn create_failed(node: &Node, name: NameLock<'_, Self>) {
        if node.abandon_unopened(&name) {
            name.remove();
        }
    }

    /// Counts the close and, if it was the last one of a named file, removes the name.
    ///
    /// This runs in `->release`, never `->flush`: `->flush` runs on every `close()` of every
    /// dup while epoll items may still be linked to the queue, whereas `__fput()` calls
    /// `->release` once, after `eventpoll_release()` unlinked them all. The queue reference of
    /// this open file (`_queue`) is dropped last.
    fn release(node: &Node, dentry: &Dentry<Self>, _queue: Arc<WaitQueue>) {
        if node.close_unless_last() {
            return;
        }
        // Maybe the last close: lock the name first (the parent directory's lock orders this
        // against lookups that create, against unlink and rename), then decide.
        let name = dentry.lock_name();
        if node.close_last(name.as_ref()) {
            if let Some(name) = name {
                name.remove();
                stats::FILES_AUTO_DELETED.inc();
            }
        }
    }

    /// Returns the open file's poll mask.
    ///
    /// No wake-up can be lost: the poller is on the queue before the state is read, and every
    /// change wakes the queue after the state changed:
    ///
    /// ```text
    /// poll                                    write / truncate / unlink / remount
    /// ----                                    -----------------------------------
    /// register on queue (queue lock)
    ///                                         change i_size / unlinked / s_maxbytes
    ///                                         wake queue (queue lock) -> poller is woken
    /// read i_size, f_pos, unlinked, s_maxbytes
    /// ```
    ///
    /// If the change comes before the registration, the queue's lock orders it before the
    /// poller's reads, which see the new state; if after, the wake-up finds the poller on the
    /// queue. Either way it sees the change.
    ///
    /// The mask is read without a lock shared with other files or descriptions: the size
    /// limit is the superblock's `s_maxbytes` (which equals the instance's file size limit),
    /// `unlinked` is an atomic, and `i_size` and `f_pos` are racy snapshots, as in other
    /// `->poll`s.
    ///
    /// Wake-ups carry a key only where it holds for every open file description, because
    /// io_uring poll and aio `IOCB_CMD_POLL` take a key as the result without calling this
    /// again, and epoll counts an `EPOLLEXCLUSIVE` wake only for items the key matches:
    ///
    /// - writes, seeks and growing truncates wake every waiter without a key: `EPOLLIN` is per
    ///   description (the writer's own is at the end after its write), so an `EPOLLIN` key
    ///   would complete polls that have nothing to read, and waking one exclusive waiter could
    ///   pick one that has nothing to read while a readable one sleeps on;
    /// - shrinking truncates and a raised size limit wake with `EPOLLOUT | EPOLLWRNORM` and one
    ///   exclusive waiter: room to write is the same for every description;
    /// - unlink and a rename over the file wake every waiter with `EPOLLHUP`.
    ///
    /// The table is at [`crate::node`], the reasoning in `docs/design.md` ("Poll").
    fn poll(
        inode: &Inode<Self>,
        node: &Node,
        queue: ArcBorrow<'_, WaitQueue>,
        poller: &Poller<'_>,
    ) -> u32 {
        queue.register(poller);
        let limit = inode.super_block().max_bytes();
        limits::poll_mask(
            file_pos(poller.file()),
            inode.size(),
            limit,
            node.is_unlinked(),
        )
    }
}

/// Adapts a `seq_file` to [`core::fmt::Write`].
struct ShowOptions<'a>(&'a SeqFile);

impl core::fmt::Write for ShowOptions<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        seq_print!(self.0, "{s}");
        Ok(())
    }
}
