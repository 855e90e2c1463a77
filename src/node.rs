// SPDX-License-Identifier: GPL-2.0

//! A locust file's state: its open count, whether it still has a name, and its wait queue.
//!
//! # Lifetimes
//!
//! The inode owns one reference to its [`Node`] (dropped when the inode is evicted), and the
//! node owns one reference to its [`WaitQueue`]. Every open file description owns a further
//! reference to the queue, taken in `->open` and dropped in `->release`, which `__fput()`
//! calls only after `eventpoll_release()` has unlinked the file's epoll items from it. So no
//! waiter can be linked to a queue when its last reference goes; `PollCondVarBox` still wakes
//! with `POLLFREE` and frees after an RCU grace period, as a second line of defence.

use crate::{
    stats,
    vfs::{
        FileSystem,
        NameLock, //
    },
};
use kernel::{
    fs::File,
    new_spinlock,
    prelude::*,
    static_lock_class,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        poll::{
            PollCondVarBox,
            PollTable, //
        },
        Arc,
        SpinLock, //
    }, //
};

/// The wait queue of one locust file, reference-counted by its node and its open files.
pub(crate) struct WaitQueue {
    cv: PollCondVarBox,
}

impl WaitQueue {
    /// Creates a wait queue.
    fn new() -> Result<Arc<Self>> {
        let cv = PollCondVarBox::new(c"locustfs_wait_queue", static_lock_class!())?;
        // Counted from here on: if the allocation below fails, dropping `Self` uncounts it.
        stats::LIVE_QUEUES.inc();
        Ok(Arc::new(Self { cv }, GFP_KERNEL_ACCOUNT)?)
    }

    /// Adds the poller of `table` (if any) to the queue.
    pub(crate) fn register(&self, file: &File, table: &PollTable<'_>) {
        table.register_wait(file, &self.cv);
    }

    /// Wakes every waiter, `EPOLLEXCLUSIVE` ones included.
    ///
    /// Readiness is per open file description (`EPOLLIN` depends on each one's position), so
    /// waking only the first exclusive waiter, as `wake_up_poll()` does, could hand the
    /// wake-up to a description that has nothing to read while a readable one sleeps on. Waking
    /// all of them keeps `EPOLLEXCLUSIVE`'s promise (one or more waiters wake) and loses none.
    ///
    /// The kernel crate's `PollCondVar` has no keyed wake-up, so the wake-up carries no event
    /// mask: each woken poller re-reads the mask (`poll`, `select` and epoll all do) and
    /// reports only events that are really there.
    fn wake(&self) {
        self.cv.notify_all();
    }
}

impl Drop for WaitQueue {
    fn drop(&mut self) {
        stats::LIVE_QUEUES.dec();
    }
}

/// What [`Node::state`] protects.
struct NodeState {
    /// Open file descriptions of the file (`->open` minus `->release`).
    opens: usize,
    /// The name is gone: unlinked, renamed over, or removed by the last close.
    unlinked: bool,
}

/// The state of one locust file, owned by its inode.
#[pin_data(PinnedDrop)]
pub(crate) struct Node {
    #[pin]
    state: SpinLock<NodeState>,
    queue: Arc<WaitQueue>,
    /// Bytes charged to the instance; written only with the inode locked.
    charged: Atomic<u64>,
}

impl Node {
    /// Creates the state of a new, not yet opened file.
    pub(crate) fn new() -> Result<Arc<Self>> {
        let queue = WaitQueue::new()?;
        let node = Arc::pin_init(
            try_pin_init!(Self {
                state <- new_spinlock!(NodeState {
                    opens: 0,
                    unlinked: false,
                }),
                queue,
                charged: Atomic::new(0),
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        stats::LIVE_FILES.inc();
        stats::FILES_CREATED.inc();
        Ok(node)
    }

    /// Counts a new open file description and returns its reference to the queue.
    ///
    /// If the file is gone (its last close removed the name: the opener found the name just
    /// before), an open without
    /// `O_CREAT` fails with `ENOENT`: at some instant during the open the name did not exist,
    /// which is what a new lookup would find or race with anyway. An open with `O_CREAT` that
    /// came by the name (`create`) fails with `EOPENSTALE`: the VFS looks the name up again
    /// (`do_file_open()` retries, last with `LOOKUP_REVAL`) and creates a new file or joins the
    /// one that replaced it.
    pub(crate) fn open(&self, create: bool) -> Result<Arc<WaitQueue>> {
        let mut state = self.state.lock();
        if state.opens == 0 && state.unlinked {
            drop(state);
            stats::OPENS_AFTER_LAST_CLOSE.inc();
            return Err(if create { EOPENSTALE } else { ENOENT });
        }
        state.opens += 1;
        Ok(self.queue.clone())
    }

    /// Returns whether the file is gone for good: no opener and no name.
    pub(crate) fn is_gone(&self) -> bool {
        let state = self.state.lock();
        state.opens == 0 && state.unlinked
    }

    /// Decides the fate of a file whose creating open failed before `->open`, with its name
    /// locked: if nobody opened it meanwhile, unhashes the name and returns `true` (the caller
    /// removes it), as [`Node::close_last`] does for a last close.
    pub(crate) fn abandon_unopened<T: FileSystem>(&self, name: &NameLock<'_, T>) -> bool {
        let mut state = self.state.lock();
        if state.opens != 0 || state.unlinked {
            return false;
        }
        name.unhash();
        state.unlinked = true;
        true
    }

    /// Counts a closed file description unless it may be the last one of a named file.
    ///
    /// Returns `false`, counting nothing, if the caller must lock the name and call
    /// [`Node::close_last`] instead.
    pub(crate) fn close_unless_last(&self) -> bool {
        let mut state = self.state.lock();
        if state.opens > 1 || state.unlinked {
            state.opens -= 1;
            return true;
        }
        false
    }

    /// Counts a closed file description, with its name locked if it still has one.
    ///
    /// If this was the last one and the file has a name, unhashes the name (under the state
    /// lock, so that an opener that sees the file dead can no longer find it) and returns
    /// `true`: the caller then removes the name.
    pub(crate) fn close_last<T: FileSystem>(&self, name: Option<&NameLock<'_, T>>) -> bool {
        let mut state = self.state.lock();
        state.opens -= 1;
        if state.opens > 0 && name.is_some() {
            // Between `close_unless_last` and now (while this close waited for the directory
            // lock) an opener joined the file: it stays.
            stats::JOINS_WHILE_CLOSING.inc();
        }
        match name {
            Some(name) if state.opens == 0 && !state.unlinked => {
                name.unhash();
                state.unlinked = true;
                true
            }
            _ => false,
        }
    }

    /// Marks the name removed (by `unlink` or a rename over it) and wakes pollers: `EPOLLHUP`.
    pub(crate) fn name_removed(&self) {
        self.state.lock().unlinked = true;
        self.queue.wake();
    }

    /// Returns whether the name was removed.
    pub(crate) fn is_unlinked(&self) -> bool {
        self.state.lock().unlinked
    }

    /// Wakes pollers after the contents, the size, a position or a limit changed: `EPOLLIN`
    /// or `EPOLLOUT` may have changed. Does not sleep.
    pub(crate) fn readiness_changed(&self) {
        self.queue.wake();
    }

    /// Returns the bytes charged to the instance for this file.
    pub(crate) fn charged(&self) -> u64 {
        self.charged.load(Relaxed)
    }

    /// Records the bytes charged for this file (with the inode locked).
    pub(crate) fn set_charged(&self, bytes: u64) {
        self.charged.store(bytes, Relaxed);
    }
}

#[pinned_drop]
impl PinnedDrop for Node {
    fn drop(self: Pin<&mut Self>) {
        stats::LIVE_FILES.dec();
    }
}
