// SPDX-License-Identifier: GPL-2.0

//! A wait queue for pollers that can be woken with an event mask, and the poll table of one
//! `->poll` call.
//!
//! The kernel crate's `PollCondVar` wakes without a key (`notify_*` pass a null key), so
//! every woken poller calls `->poll` again, and epoll cannot tell an `EPOLLEXCLUSIVE` waiter
//! that wanted the event from one that did not. [`PollQueue`] owns its `wait_queue_head` and
//! passes a key (`poll_to_key()`): `ep_poll_callback()` skips items whose events do not
//! match and counts an exclusive wake only for items that do; io_uring poll and aio
//! `IOCB_CMD_POLL` take the key as the result without calling `->poll` again. A key must
//! therefore only name events that are ready for *every* open file description on the queue.
//!
//! Its last drop gives the same guarantees as `PollCondVarBox`: `__wake_up_pollfree()` detaches
//! every epoll, io_uring and aio waiter that may still be linked (`POLLFREE`), and the memory is
//! freed after an RCU grace period, since those waiters drop their pointer to the head under
//! RCU. `select` and `poll` entries ignore `POLLFREE` (`pollwake()`): none can be linked at the
//! last drop, because each holds a reference to its file and the queue outlives every open
//! file of its owner (see [`Poller::wait_on`]). The drop does not sleep.
//!
//! C headers: [`include/linux/wait.h`](srctree/include/linux/wait.h),
//! [`include/linux/poll.h`](srctree/include/linux/poll.h)

use super::bindings;
use core::{
    marker::PhantomData,
    mem::ManuallyDrop, //
};
use kernel::{
    fs::File,
    prelude::*,
    sync::LockClassKey,
    types::Opaque, //
};

/// The heap part of a [`PollQueue`]: the wait queue and the RCU head that frees it.
#[pin_data]
#[repr(C)]
struct Head {
    #[pin]
    wait: Opaque<bindings::wait_queue_head>,
    rcu: Opaque<bindings::kvfree_rcu_head>,
}

/// A wait queue that pollers register on and that wakes them with or without an event mask.
///
/// # Invariants
///
/// `head` is an initialised `Head` allocated by `KBox`; it is freed only by [`Drop`], after an
/// RCU grace period that follows the removal of every waiter.
pub(crate) struct PollQueue {
    head: ManuallyDrop<Pin<KBox<Head>>>,
}

// SAFETY: A `wait_queue_head` is meant to be shared between tasks: every access to its list
// goes through its own spinlock (`__wake_up`, `add_wait_queue`, `remove_wait_queue`), and
// `PollQueue` has no other state.
unsafe impl Send for PollQueue {}
// SAFETY: See `Send`: all methods take `&self` and lock the queue's spinlock.
unsafe impl Sync for PollQueue {}

impl PollQueue {
    /// Creates a wait queue; its spinlock belongs to lockdep class `key`, named `name`.
    ///
    /// The memory is charged to the creator's memory cgroup (`GFP_KERNEL_ACCOUNT`).
    pub(crate) fn new(name: &'static CStr, key: Pin<&'static LockClassKey>) -> Result<Self> {
        let head = KBox::pin_init(
            pin_init!(Head {
                // SAFETY: `slot` is valid for writes of a `wait_queue_head`; `name` and `key`
                // live forever, as lockdep requires.
                wait <- Opaque::ffi_init(|slot| unsafe {
                    bindings::__init_waitqueue_head(slot, name.as_char_ptr(), key.as_ptr())
                }),
                rcu: Opaque::uninit(),
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        // INVARIANT: Allocated by `KBox` and initialised above.
        Ok(Self {
            head: ManuallyDrop::new(head),
        })
    }

    fn wait_queue_head(&self) -> *mut bindings::wait_queue_head {
        self.head.wait.get()
    }

    /// Wakes waiters, passing `events` as the key (`0` for none); `nr_exclusive` is how many
    /// exclusive waiters that count the wake-up may be woken (`0` for all).
    fn wake(&self, events: u32, nr_exclusive: i32) {
        // SAFETY: The queue is initialised (type invariant). `__wake_up` takes its spinlock;
        // a key is an event mask cast to a pointer (`poll_to_key()`), never dereferenced.
        unsafe {
            bindings::__wake_up(
                self.wait_queue_head(),
                bindings::TASK_NORMAL,
                nr_exclusive,
                events as usize as *mut c_void,
            )
        };
    }

    /// Wakes every waiter, exclusive ones included, without a key: each one polls again.
    pub(crate) fn wake_all(&self) {
        self.wake(0, 0);
    }

    /// Wakes every waiter whose events include some of `events`, exclusive ones included,
    /// with `events` as the key.
    pub(crate) fn wake_all_for(&self, events: u32) {
        self.wake(events, 0);
    }

    /// Wakes, with `events` as the key, every non-exclusive waiter whose events include some
    /// of `events`, and the first `EPOLLEXCLUSIVE` one that does.
    pub(crate) fn wake_one_for(&self, events: u32) {
        self.wake(events, 1);
    }
}

impl Drop for PollQueue {
    fn drop(&mut self) {
        // SAFETY: Taken once, here; `self.head` is not used again.
        let head = unsafe { ManuallyDrop::take(&mut self.head) };
        // SAFETY: The box is freed below without running `Head`'s destructor, which has
        // nothing to do: a `wait_queue_head` needs no teardown once it has no waiters.
        let head = KBox::into_raw(unsafe { Pin::into_inner_unchecked(head) });
        // SAFETY: `head` is valid until it is freed below. Who can still be linked:
        // - no `select`/`poll` entry: `__pollwait()` holds a reference to the entry's file
        //   until `poll_freewait()` unlinks it, and the owner of a queue drops its last
        //   reference only once every file that could register on it was released (a
        //   documented requirement of `Poller::wait_on`); `pollwake()` would ignore
        //   `POLLFREE`, so this is what keeps them off a freed head;
        // - epoll items are unlinked by `eventpoll_release()` before `->release`, for the same
        //   reason none of them is left either;
        // - an io_uring or aio poll that a future owner let outlive the file would be: for
        //   it, `__wake_up_pollfree()` wakes with `POLLFREE`, and each such waiter unlinks
        //   itself under the queue's lock and clears its pointer to the head with
        //   `smp_store_release()`, read under RCU.
        unsafe { bindings::__wake_up_pollfree((*head).wait.get()) };
        // SAFETY: `head` came from `KBox` (so `kvfree` may free it) and is not used again
        // here; RCU readers that still see it (epoll's `ep_remove_wait_queue()`, io_uring's
        // and aio's POLLFREE handling) finish before the grace period ends.
        unsafe { bindings::kvfree_call_rcu((*head).rcu.get(), head.cast()) };
    }
}

/// The poll table of one `->poll` call, with the file being polled.
///
/// # Invariants
///
/// `table` is null or a valid `poll_table` for `'a`.
pub(crate) struct Poller<'a> {
    file: &'a File,
    table: *mut bindings::poll_table,
    _table: PhantomData<&'a bindings::poll_table>,
}

impl<'a> Poller<'a> {
    /// Creates a poller of `file`.
    ///
    /// # Safety
    ///
    /// `table` must be null or a valid `poll_table` for `'a`.
    pub(super) unsafe fn new(file: &'a File, table: *mut bindings::poll_table) -> Self {
        // INVARIANT: The caller guarantees it.
        Self {
            file,
            table,
            _table: PhantomData,
        }
    }

    /// Returns the file being polled.
    pub(crate) fn file(&self) -> &'a File {
        self.file
    }

    /// Adds the caller (if it waits: `select`, `poll`, epoll, io_uring and aio do; a plain
    /// `vfs_poll()` does not) to `queue`.
    ///
    /// `queue` must outlive the file's open file description: an open file holds a reference
    /// to it until `->release`, and [`PollQueue`]'s drop relies on it: `select` and `poll`
    /// entries ignore `POLLFREE`, and unlink themselves when they end, before they drop their
    /// reference to the file; epoll unlinks in `eventpoll_release()`, before `->release`;
    /// io_uring and aio unlink when their request ends, and [`PollQueue`]'s drop detaches them
    /// in any case.
    pub(crate) fn wait_on(&self, queue: &PollQueue) {
        // SAFETY: `self.file` is a valid file; `self.table` is null or valid (type invariant);
        // the head is initialised and stays valid for as long as any waiter can reach it
        // (`PollQueue`'s invariant and drop).
        unsafe { bindings::poll_wait(self.file.as_ptr(), queue.wait_queue_head(), self.table) };
    }
}
