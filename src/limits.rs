// SPDX-License-Identifier: GPL-2.0

//! Size and file-count accounting of one instance, and the poll mask of an open file.
//!
//! Pure logic with no kernel state, unit-tested by KUnit below (in `locustfs_kunit.ko`).

use crate::vfs::poll_bits::{
    EPOLLHUP,
    EPOLLIN,
    EPOLLOUT,
    EPOLLRDNORM,
    EPOLLWRNORM, //
};
use kernel::page::PAGE_SIZE;

/// A limit of the instance would be passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// Returns the bytes charged for a file of `size` bytes: whole pages, as the page cache holds
/// them.
pub(crate) fn charge_for(size: i64) -> u64 {
    let page = PAGE_SIZE as u64;
    u64::try_from(size).unwrap_or(0).div_ceil(page) * page
}

/// What one instance uses.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Bytes charged to files, in whole pages.
    pub(crate) bytes: u64,
    /// Inodes, the root directory included.
    pub(crate) inodes: u64,
}

impl Usage {
    /// Moves one file's charge from `old` to `new` bytes; growing past `limit` fails.
    pub(crate) fn recharge(&mut self, old: u64, new: u64, limit: u64) -> Result<(), Full> {
        let bytes = (self.bytes - old).checked_add(new).ok_or(Full)?;
        if new > old && bytes > limit {
            return Err(Full);
        }
        self.bytes = bytes;
        Ok(())
    }

    /// Grows one file's charge from `old` towards `want` bytes by the whole pages that fit
    /// under `limit`, and returns the new charge (never less than `old`).
    pub(crate) fn grow_up_to(&mut self, old: u64, want: u64, limit: u64) -> u64 {
        let page = PAGE_SIZE as u64;
        let others = self.bytes - old;
        let room = limit.saturating_sub(others) / page * page;
        let new = want.min(room).max(old);
        self.bytes = others + new;
        new
    }

    /// Accounts one more inode; `max_files` does not count the root directory.
    pub(crate) fn add_inode(&mut self, max_files: u64) -> Result<(), Full> {
        if self.inodes > max_files {
            return Err(Full);
        }
        self.inodes += 1;
        Ok(())
    }

    /// Returns an inode's accounting.
    pub(crate) fn remove_inode(&mut self) {
        self.inodes -= 1;
    }

    /// Returns the files and directories in use, the root directory not counted.
    pub(crate) fn files(&self) -> u64 {
        self.inodes.saturating_sub(1)
    }
}

/// The events a wake-up that made room carries: ready for every open file description.
pub(crate) const ROOM: u32 = EPOLLOUT | EPOLLWRNORM;

/// The event a wake-up after the name's removal carries: ready for every open file
/// description.
pub(crate) const HANG_UP: u32 = EPOLLHUP;

/// Returns whether a file of `size` bytes that may grow to `max` bytes has room to grow: the
/// condition for [`ROOM`] in its poll mask, and for a wake-up with [`ROOM`] as its key.
pub(crate) fn has_room(size: i64, max: i64) -> bool {
    size < max
}

/// Returns the poll mask of an open file at position `pos` in a file of `size` bytes that may
/// grow to `max` bytes, `unlinked` once its name was removed by `unlink` or a rename over it.
pub(crate) fn poll_mask(pos: i64, size: i64, max: i64, unlinked: bool) -> u32 {
    let mut mask = 0;
    if pos < size {
        mask |= EPOLLIN | EPOLLRDNORM;
    }
    if has_room(size, max) {
        mask |= ROOM;
    }
    if unlinked {
        mask |= HANG_UP;
    }
    mask
}

// Built only into the test module `locustfs_kunit.ko` (`src/locustfs_kunit.rs`), whose object
// alone gets `--cfg locustfs_kunit` from `Kbuild`: `locustfs.ko` runs no tests.
#[cfg(locustfs_kunit)]
#[kernel::prelude::kunit_tests(locustfs_limits)]
mod tests {
    use super::*;

    #[test]
    fn charges_whole_pages() {
        assert_eq!(charge_for(0), 0);
        assert_eq!(charge_for(1), PAGE_SIZE as u64);
        assert_eq!(charge_for(PAGE_SIZE as i64), PAGE_SIZE as u64);
        assert_eq!(charge_for(PAGE_SIZE as i64 + 1), 2 * PAGE_SIZE as u64);
        assert_eq!(charge_for(-5), 0);
    }

    #[test]
    fn recharge_respects_the_limit_when_growing_only() {
        let mut u = Usage::default();
        assert_eq!(u.recharge(0, 8192, 8192), Ok(()));
        assert_eq!(u.recharge(0, 4096, 8192), Err(Full));
        assert_eq!(u.bytes, 8192);
        // Shrinking always succeeds, even over a limit lowered by a remount.
        assert_eq!(u.recharge(8192, 4096, 0), Ok(()));
        assert_eq!(u.bytes, 4096);
        assert_eq!(u.recharge(4096, 0, 0), Ok(()));
        assert_eq!(u, Usage::default());
    }

    #[test]
    fn grow_up_to_takes_the_whole_pages_that_fit() {
        let page = PAGE_SIZE as u64;
        let mut u = Usage::default();
        assert_eq!(u.recharge(0, 3 * page, 4 * page), Ok(()));
        // Another file wants two pages where one is free: it gets one.
        assert_eq!(u.grow_up_to(0, 2 * page, 4 * page), page);
        assert_eq!(u.bytes, 4 * page);
        // Nothing free: the charge stays.
        assert_eq!(u.grow_up_to(page, 3 * page, 4 * page), page);
        assert_eq!(u.bytes, 4 * page);
        // A limit below what is in use never takes a charge away.
        assert_eq!(u.grow_up_to(page, 2 * page, 2 * page), page);
        // Everything fits.
        let mut u = Usage::default();
        assert_eq!(u.grow_up_to(0, 2 * page, 4 * page), 2 * page);
        assert_eq!(u.bytes, 2 * page);
    }

    #[test]
    fn room_is_below_the_limit_only() {
        assert!(has_room(0, 1));
        assert!(!has_room(1, 1));
        // A file left above a limit lowered by a remount.
        assert!(!has_room(2, 1));
    }

    #[test]
    fn max_files_does_not_count_the_root() {
        let mut u = Usage::default();
        assert_eq!(u.add_inode(1), Ok(())); // The root.
        assert_eq!(u.add_inode(1), Ok(()));
        assert_eq!(u.add_inode(1), Err(Full));
        assert_eq!(u.files(), 1);
        u.remove_inode();
        assert_eq!(u.files(), 0);
    }

    #[test]
    fn poll_mask_follows_position_size_and_name() {
        assert_eq!(poll_mask(0, 0, 10, false), EPOLLOUT | EPOLLWRNORM);
        assert_eq!(
            poll_mask(0, 1, 10, false),
            EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM
        );
        assert_eq!(poll_mask(1, 1, 1, false), 0);
        assert_eq!(poll_mask(5, 1, 1, true), EPOLLHUP);
    }
}
