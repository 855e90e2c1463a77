// SPDX-License-Identifier: GPL-2.0

//! locustfs: pollable RAM files that delete themselves when their last opener closes them.
//!
//! `mount -t locustfs none DIR` gives an independent RAM instance. Its regular files are
//! created with `open(O_CREAT)`, shared by any number of openers, read and written like any
//! file, and waited on with poll, select, epoll or io_uring. When the last open file
//! description of a file is released (last `close()`, process exit, `SIGKILL`), the file is
//! removed from its directory and freed. See `docs/design.md` for the object lifetimes.

mod fs;
mod limits;
mod node;
mod options;
mod stats;
mod users;
mod vfs;

use kernel::prelude::*;

module! {
    type: LocustfsModule,
    name: "locustfs",
    authors: ["The locustfs developers"],
    description: "Pollable RAM files that delete themselves on last close",
    license: "GPL",
    params: {
        user_ns_size: u64 {
            default: 0,
            description: "Bytes one host user may hold in user-namespace mounts (0: half of RAM)",
        },
    },
}

/// The `file_system_type` of locustfs (static: lockdep needs its lock class keys there).
static FS_TYPE: vfs::FsType = vfs::FsType::new();

/// The loaded module: the registered filesystem type, the registry of users of user-namespace
/// instances and the debugfs counters.
struct LocustfsModule {
    /// Dropped first: no instance can exist after it.
    _fs: vfs::Registration<fs::Locustfs>,
    _users: users::Registry,
    _stats: stats::DebugFiles,
}

impl kernel::Module for LocustfsModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // SAFETY: The one call, before the filesystem type is registered below.
        let users = unsafe { users::Registry::new() };
        let stats = stats::DebugFiles::new()?;
        let fs = vfs::Registration::new(&FS_TYPE, module)?;
        Ok(Self {
            _fs: fs,
            _users: users,
            _stats: stats,
        })
    }
}
