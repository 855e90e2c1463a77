// SPDX-License-Identifier: GPL-2.0

//! A locust file's state: its open count, whether it still has a name, and its wait queue.
//!
//! # Lifetimes
//!
//! The inode owns one reference to its [`Node`] (dropped when the inode is evicted), and the
//! node owns one reference to its [`WaitQueue`]. Every open file description owns a further
//! reference to the queue, taken in `->open` and dropped in `->release`, which `__fput()`
//! calls only after `eventpoll_release()` has unlinked the file's epoll items from it. So no
//! epoll item can be linked to a queue when its last reference goes; [`PollQueue`] still wakes
//! with `POLLFREE` and frees after an RCU grace period, for io_uring and aio requests and as a
//! second line of defence.
//!
//! # Wake-ups
//!
//! Which waiters a change wakes, and with which key (see [`WaitQueue::wake`]):
//!
//! | change                               | key                      | exclusive waiters woken |
//! |--------------------------------------|--------------------------|-------------------------|
//! | write, seek, truncate that grows     | none                     | all                     |
//! | truncate that shrinks, limit raised  | `EPOLLOUT \| EPOLLWRNORM` | one that wants it       |
//! | name removed (unlink, rename over)   | `EPOLLHUP`               | all                     |

use crate::{
    limits,
    stats, //
    vfs::{
        Change,
        FileSystem,
        NameLock,
        PollQueue,
        Poller, //
    },
};
use kernel::{
    new_spinlock,
    prelude::*,
    static_lock_class,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        SpinLock, //
    }, //
};

/// The wait queue of one locust file, reference-counted by its node and its open files.
pub(crate) struct WaitQueue {
    queue: PollQueue,
}

impl WaitQueue {
    /// Creates a wait queue.
    fn new() -> Result<Arc<Self>> {
        let queue = PollQueue::new(c"locustfs_wait_queue", static_lock_class!())?;
        // Counted from here on: if the allocation below fails, dropping `Self` uncounts it.
        stats::LIVE_QUEUES.inc();
        Ok(Arc::new(Self { queue }, GFP_KERNEL_ACCOUNT)?)
    }

    /// Adds the caller of `->poll` (if it waits) to the queue.
    pub(crate) fn register(&self, poller: &Poller<'_>) {
        poller.wait_on(&self.queue);
    }

    /// Wakes the waiters that `change` may have made ready.
    ///
    /// A wake-up's key is taken as the result by io_uring poll and aio `IOCB_CMD_POLL`,
    /// without a new `->poll`, so a key may only name events that are ready for every open
    /// file description:
    ///
    /// - `EPOLLIN` is not: it depends on each description's position, and after a write the
    ///   writer's own description (and any other at the end) has nothing to read. Data
    ///   changes wake without a key, so every waiter polls again, and wake every exclusive
    ///   waiter: waking only the first, as `wake_up_poll()` does, could hand the wake-up to a
    ///   description with nothing to read while a readable one sleeps on.
    /// - `EPOLLOUT` is: it depends only on the size and the limit. Room wakes carry the key,
    ///   so epoll skips waiters that do not want it, and wake only the first `EPOLLEXCLUSIVE`
    ///   waiter that does: it is as ready as any other.
    fn wake(&self, change: Change) {
        match change {
            Change::Data => self.queue.wake_all(),
            Change::Room => self.queue.wake_one_for(limits::ROOM),
        }
    }

    /// Wakes every waiter with `EPOLLHUP`, ready for every description once the name is gone.
    fn hang_up(&self) {
        self.queue.wake_all_for(limits::HANG_UP);
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
}

/// The state of one locust file, owned by its inode.
#[pin_data(PinnedDrop)]
pub(crate) struct Node {
    #[pin]
    state: SpinLock<NodeState>,
    /// The name is gone: unlinked, renamed over, or removed by the last close. Written only
    /// with `state` locked (decisions about the last close read it there); `->poll` reads it
    /// without a lock.
    unlinked: Atomic<bool>,
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
                state <- new_spinlock!(NodeState { opens: 0 }),
                unlinked: Atomic::new(false),
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
        if state.opens == 0 && self.unlinked.load(Relaxed) {
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
        state.opens == 0 && self.unlinked.load(Relaxed)
    }

    /// Decides the fate of a file whose creating open failed before `->open`, with its name
    /// locked: if nobody opened it meanwhile, unhashes the name and returns `true` (the caller
    /// removes it), as [`Node::close_last`] does for a last close.
    pub(crate) fn abandon_unopened<T: FileSystem>(&self, name: &NameLock<'_, T>) -> bool {
        let state = self.state.lock();
        if state.opens != 0 || self.unlinked.load(Relaxed) {
            return false;
        }
        name.unhash();
        self.unlinked.store(true, Relaxed);
        true
    }

    /// Counts a closed file description unless it may be the last one of a named file.
    ///
    /// Returns `false`, counting nothing, if the caller must lock the name and call
    /// [`Node::close_last`] instead.
    pub(crate) fn close_unless_last(&self) -> bool {
        let mut state = self.state.lock();
        if state.opens > 1 || self.unlinked.load(Relaxed) {
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
            Some(name) if state.opens == 0 && !self.unlinked.load(Relaxed) => {
                name.unhash();
                self.unlinked.store(true, Relaxed);
                true
            }
            _ => false,
        }
    }

    /// Marks the name removed (by `unlink` or a rename over it) and wakes pollers: `EPOLLHUP`.
    pub(crate) fn name_removed(&self) {
        let state = self.state.lock();
        self.unlinked.store(true, Relaxed);
        drop(state);
        self.queue.hang_up();
    }

    /// Returns whether the name was removed, without a lock (for `->poll`).
    ///
    /// A store while the file is open (`name_removed`) is followed by a wake-up, which takes
    /// the queue's lock that `->poll` took to register before it read this: a poller that
    /// read `false` is woken after the store. The other stores happen with no open file
    /// description left, when nobody can poll.
    pub(crate) fn is_unlinked(&self) -> bool {
        self.unlinked.load(Relaxed)
    }

    /// Wakes pollers after the contents, the size, a position or a limit changed (`change`
    /// says which readiness may have risen). Does not sleep.
    pub(crate) fn readiness_changed(&self, change: Change) {
        self.queue.wake(change);
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
