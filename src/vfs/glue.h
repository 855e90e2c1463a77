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
const fmode_t LOCUSTFS_FMODE_CAN_ODIRECT = FMODE_CAN_ODIRECT;
const gfp_t LOCUSTFS_GFP_HIGHUSER = GFP_HIGHUSER;
const unsigned int LOCUSTFS_LOOKUP_OPEN = LOOKUP_OPEN;
const unsigned long LOCUSTFS_SB_NOSEC = SB_NOSEC;
/* Inode states in which an inode on s_inodes must be skipped: being set up or torn down. */
const unsigned int LOCUSTFS_I_SKIP = I_NEW | I_WILL_FREE | I_FREEING;

/*
 * Lockless accesses to fields that C code reads and writes plainly. The kernel crate's atomics
 * require every concurrent access to be atomic, which C's plain accesses are not; these are
 * the kernel's own marked accesses for such races.
 */

/*
 * A description's position, read without f_pos_lock (which the VFS holds, or skips for an
 * unshared file in fdget_pos(), while it writes f_pos plainly). A poller may see a stale
 * position; every seek and write wakes the pollers after it, so they read it again.
 */
static inline loff_t locustfs_file_pos_racy(const struct file *file)
{
	/* Racy by design: a stale position only delays a poller (see above). */
	return data_race(READ_ONCE(file->f_pos));
}

/*
 * The file size limit, read without s_umount. Only fill_super and reconfigure write it, with
 * s_umount held for writing; C readers (generic_write_checks(), inode_newsize_ok()) read it
 * plainly, so a reader sees the old or the new limit.
 */
static inline loff_t locustfs_sb_maxbytes(const struct super_block *sb)
{
	return READ_ONCE(sb->s_maxbytes);
}

static inline void locustfs_set_sb_maxbytes(struct super_block *sb, loff_t max)
{
	WRITE_ONCE(sb->s_maxbytes, max);
}

/* cond_resched() is a macro over a static call. */
static inline void locustfs_cond_resched(void)
{
	cond_resched();
}
