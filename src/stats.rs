// SPDX-License-Identifier: GPL-2.0

//! Module-wide counters, readable in `/sys/kernel/debug/locustfs/`.
//!
//! The tests read them to check that nothing outlives its last user: after every file is gone
//! `live_files`, `live_queues` and `bytes_in_use` are 0. Two more count how often the race
//! windows between an open and a last close were hit, for the race tests to assert on:
//! `opens_after_last_close` and `joins_while_closing`.

use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    }, //
};

/// A counter.
pub(crate) struct Counter(Atomic<i64>);

impl Counter {
    const fn new() -> Self {
        Self(Atomic::new(0))
    }

    /// Adds `n` (which may be negative).
    pub(crate) fn add(&self, n: i64) {
        self.0.add(n, Relaxed);
    }

    /// Adds one.
    pub(crate) fn inc(&self) {
        self.add(1);
    }

    /// Subtracts one.
    pub(crate) fn dec(&self) {
        self.add(-1);
    }
}

impl core::fmt::Debug for Counter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0.load(Relaxed))
    }
}

/// Regular files that exist (named or not).
pub(crate) static LIVE_FILES: Counter = Counter::new();
/// Wait queues that exist.
pub(crate) static LIVE_QUEUES: Counter = Counter::new();
/// Regular files ever created.
pub(crate) static FILES_CREATED: Counter = Counter::new();
/// Files whose name was removed by their last close.
pub(crate) static FILES_AUTO_DELETED: Counter = Counter::new();
/// Bytes charged to files across all instances, in whole pages.
pub(crate) static BYTES_IN_USE: Counter = Counter::new();
/// Opens that found their file gone, its name removed by a last close after the opener found
/// the name (or the file, through a `/proc` magic link): refused with `ENOENT`, or with
/// `O_CREAT` sent to look the name up again.
pub(crate) static OPENS_AFTER_LAST_CLOSE: Counter = Counter::new();
/// Last closes that, once they held the directory lock, found that an opener had joined the
/// file meanwhile: the opener won and the file stayed.
pub(crate) static JOINS_WHILE_CLOSING: Counter = Counter::new();

/// The debugfs directory and its files; removed when dropped.
pub(crate) struct DebugFiles {
    _files: KVec<Pin<KBox<File<&'static Counter>>>>,
    _dir: Dir,
}

impl DebugFiles {
    /// Creates `/sys/kernel/debug/locustfs/` with one file per counter.
    pub(crate) fn new() -> Result<Self> {
        let dir = Dir::new(c"locustfs");
        let counters: [(&CStr, &'static Counter); 7] = [
            (c"live_files", &LIVE_FILES),
            (c"live_queues", &LIVE_QUEUES),
            (c"files_created", &FILES_CREATED),
            (c"files_auto_deleted", &FILES_AUTO_DELETED),
            (c"bytes_in_use", &BYTES_IN_USE),
            (c"opens_after_last_close", &OPENS_AFTER_LAST_CLOSE),
            (c"joins_while_closing", &JOINS_WHILE_CLOSING),
        ];
        let mut files = KVec::with_capacity(counters.len(), GFP_KERNEL)?;
        for (name, counter) in counters {
            files.push(
                KBox::pin_init(dir.read_only_file(name, counter), GFP_KERNEL)?,
                GFP_KERNEL,
            )?;
        }
        Ok(Self {
            _files: files,
            _dir: dir,
        })
    }
}
