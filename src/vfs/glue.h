/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers for the bindings the kernel crate does not provide: the new mount API
 * (fs_context.h, fs_parser.h) and the static inline VFS helpers the glue layer calls.
 * bindgen turns this into src/vfs/generated.rs and, for the static inlines,
 * src/vfs/c_inlines.c (thin C wrappers compiled into the module).
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/fsnotify.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/security.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>
#include <linux/uio.h>

/* Constants that are macros with casts, which bindgen cannot evaluate by itself. */
const __poll_t LOCUSTFS_EPOLLIN = EPOLLIN;
const __poll_t LOCUSTFS_EPOLLRDNORM = EPOLLRDNORM;
const __poll_t LOCUSTFS_EPOLLOUT = EPOLLOUT;
const __poll_t LOCUSTFS_EPOLLWRNORM = EPOLLWRNORM;
const __poll_t LOCUSTFS_EPOLLHUP = EPOLLHUP;
const loff_t LOCUSTFS_MAX_LFS_FILESIZE = MAX_LFS_FILESIZE;
const unsigned int LOCUSTFS_DCACHE_DONTCACHE = DCACHE_DONTCACHE;
const fmode_t LOCUSTFS_FMODE_CREATED = FMODE_CREATED;
const fmode_t LOCUSTFS_FMODE_OPENED = FMODE_OPENED;
const gfp_t LOCUSTFS_GFP_HIGHUSER = GFP_HIGHUSER;
const unsigned int LOCUSTFS_LOOKUP_OPEN = LOOKUP_OPEN;
const unsigned long LOCUSTFS_SB_NOSEC = SB_NOSEC;
/* Inode states in which an inode on s_inodes must be skipped: being set up or torn down. */
const unsigned int LOCUSTFS_I_SKIP = I_NEW | I_WILL_FREE | I_FREEING;
