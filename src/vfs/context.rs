// SPDX-License-Identifier: GPL-2.0

//! The new mount API: `struct fs_context` and its operations.
//!
//! `init_fs_context` gives each mount or remount a context holding [`FileSystem::Options`];
//! `parse_param` fills it one parameter at a time, `get_tree` creates a superblock with
//! `get_tree_nodev()` (one independent instance per mount) and `reconfigure` applies a remount.
//!
//! C header: [`include/linux/fs_context.h`](srctree/include/linux/fs_context.h)

use super::{
    bindings,
    ids::{
        Kgid,
        Kuid,
        UserNs, //
    },
    super_block::{
        self,
        SuperBlock, //
    },
    FileSystem, //
};
use core::{
    ffi::c_int,
    marker::PhantomData, //
};
use kernel::{
    error::from_result,
    prelude::*,
    types::ForeignOwnable, //
};

/// Why a mount parameter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamError {
    /// The key is not one of the filesystem's: the VFS reports "Unknown parameter".
    Unknown,
    /// The key is known but its value is not valid for it.
    BadValue,
    /// The value is well-formed but refused for the reason given, which the log line appends
    /// to "Bad value for 'key'" (so it starts with ": ").
    Refused(&'static CStr),
}

/// A mount or remount being configured (`struct fs_context`), as [`FileSystem`] sees it.
///
/// # Invariants
///
/// `fc` points to a valid context that stays alive, with its credentials and user namespace,
/// for `'a`.
pub(crate) struct MountContext<'a> {
    fc: *mut bindings::fs_context,
    _p: PhantomData<&'a bindings::fs_context>,
}

impl<'a> MountContext<'a> {
    /// Wraps a raw context.
    ///
    /// # Safety
    ///
    /// `fc` must be a valid context that stays alive for `'a`.
    unsafe fn from_raw(fc: *mut bindings::fs_context) -> Self {
        // INVARIANT: The caller guarantees that `fc` is valid for `'a`.
        Self {
            fc,
            _p: PhantomData,
        }
    }

    /// Returns the user namespace the instance belongs to (`fc->user_ns`): the mounter's for
    /// a new mount, the superblock's (`s_user_ns`) for a remount. Ids in mount options are
    /// numbers in this namespace.
    pub(crate) fn user_ns(&self) -> UserNs<'a> {
        // SAFETY: `fc` is valid for `'a` (type invariant) and holds a reference to its user
        // namespace until it is freed.
        unsafe { UserNs::from_raw((*self.fc).user_ns) }
    }

    /// Returns the mounter's filesystem user and group ids (`fc->cred`, the credentials of
    /// whoever created the context).
    pub(crate) fn mounter_fs_ids(&self) -> (Kuid, Kgid) {
        // SAFETY: `fc` is valid (type invariant); `fc->cred` is a reference the context holds
        // to immutable credentials.
        unsafe {
            let cred = (*self.fc).cred;
            (Kuid((*cred).fsuid), Kgid((*cred).fsgid))
        }
    }
}

/// The context operations of filesystem `T`.
struct ContextOps<T>(PhantomData<T>);

impl<T: FileSystem> ContextOps<T> {
    const OPS: bindings::fs_context_operations = bindings::fs_context_operations {
        free: Some(free::<T>),
        parse_param: Some(parse_param::<T>),
        get_tree: Some(get_tree::<T>),
        reconfigure: Some(reconfigure::<T>),
        ..pin_init::zeroed()
    };
}

/// Borrows the options of a context set up by [`init_fs_context`].
///
/// # Safety
///
/// `fc` must be a valid context set up by [`init_fs_context::<T>`] whose options have not been
/// freed, and the caller must have exclusive access to it (the VFS holds `uapi_mutex` or owns
/// the context) for `'a`.
unsafe fn options<'a, T: FileSystem>(fc: *mut bindings::fs_context) -> &'a mut T::Options {
    // SAFETY: By the safety requirements `fs_private` holds a `KBox<T::Options>` set by
    // `init_fs_context` and the caller has exclusive access.
    unsafe { <KBox<T::Options> as ForeignOwnable>::borrow_mut((*fc).fs_private) }
}

/// `file_system_type->init_fs_context`: attaches options and operations to a new context.
///
/// # Safety
///
/// Called by the VFS with a valid context of this filesystem type.
pub(super) unsafe extern "C" fn init_fs_context<T: FileSystem>(
    fc: *mut kernel::bindings::fs_context,
) -> c_int {
    let fc = fc.cast::<bindings::fs_context>();
    from_result(|| {
        // SAFETY: `fc` is valid (function safety requirement).
        let reconfigure =
            unsafe { (*fc).purpose() } == bindings::fs_context_purpose_FS_CONTEXT_FOR_RECONFIGURE;
        let current = if reconfigure {
            // SAFETY: A reconfiguration context holds a reference to the mounted root, whose
            // superblock is one of `T` (this context's type), set up by `fill_super`.
            Some(unsafe { SuperBlock::<T>::from_raw((*(*fc).root).d_sb) })
        } else {
            None
        };
        // SAFETY: `fc` is valid for this call.
        let ctx = unsafe { MountContext::from_raw(fc) };
        let opts = KBox::new(T::new_options(&ctx, current)?, GFP_KERNEL)?;
        // SAFETY: `fc` is valid and being initialised by us alone; `free` releases the options.
        unsafe {
            (*fc).fs_private = opts.into_foreign();
            (*fc).ops = &ContextOps::<T>::OPS;
        }
        Ok(0)
    })
}

/// `fs_context_operations->free`: drops the options still owned by the context.
///
/// # Safety
///
/// Called by the VFS with a context set up by [`init_fs_context::<T>`], once.
unsafe extern "C" fn free<T: FileSystem>(fc: *mut bindings::fs_context) {
    // SAFETY: `fc` is valid (function safety requirement).
    let ptr = unsafe { (*fc).fs_private };
    if !ptr.is_null() {
        // SAFETY: A non-null `fs_private` is the `KBox<T::Options>` from `init_fs_context`,
        // freed only here.
        drop(unsafe { <KBox<T::Options> as ForeignOwnable>::from_foreign(ptr) });
    }
}

/// `fs_context_operations->parse_param`: applies one `key[=value]` parameter.
///
/// Unknown keys return `-ENOPARAM` so that the VFS handles `source` and reports any other as
/// "locustfs: Unknown parameter 'key'"; a bad value is reported here, naming the key.
///
/// # Safety
///
/// Called by the VFS with a valid context of `T` (holding its `uapi_mutex`) and parameter.
unsafe extern "C" fn parse_param<T: FileSystem>(
    fc: *mut bindings::fs_context,
    param: *mut bindings::fs_parameter,
) -> c_int {
    // SAFETY: `param` is valid and its key a NUL-terminated string (function safety
    // requirement).
    let key = unsafe { CStr::from_char_ptr((*param).key) };
    // SAFETY: `param` is valid (function safety requirement).
    let value = match unsafe { (*param).type_() } {
        bindings::fs_value_type_fs_value_is_flag => Ok(None),
        // SAFETY: For a string parameter the `string` member is the active one, and it is
        // NUL-terminated.
        bindings::fs_value_type_fs_value_is_string => Ok(Some(unsafe {
            CStr::from_char_ptr((*param).__bindgen_anon_1.string)
        })),
        _ => Err(ParamError::BadValue),
    };
    // SAFETY: `fc` is valid for this call.
    let ctx = unsafe { MountContext::from_raw(fc) };
    // SAFETY: `fc` is a context of `T` and the VFS serialises parameter parsing.
    let opts = unsafe { options::<T>(fc) };
    let reason = match value.and_then(|value| T::parse_param(&ctx, opts, key, value)) {
        Ok(()) => return 0,
        Err(ParamError::Unknown) => return ENOPARAM.to_errno(),
        Err(ParamError::BadValue) => c"",
        Err(ParamError::Refused(reason)) => reason,
    };
    // SAFETY: `fc` is valid; `logfc` takes a printf format whose two `%s` are matched by the
    // NUL-terminated `key` and `reason`. The prefix is the filesystem's name.
    unsafe {
        bindings::logfc(
            (*fc).log.log,
            (*fc).log.prefix,
            b'e' as c_char,
            c"Bad value for '%s'%s".as_char_ptr(),
            key.as_char_ptr(),
            reason.as_char_ptr(),
        )
    };
    EINVAL.to_errno()
}

/// `fs_context_operations->get_tree`: creates a new, independent superblock.
///
/// # Safety
///
/// Called by the VFS with a valid context of `T`.
unsafe extern "C" fn get_tree<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: `fc` is valid; `fill_super` matches the callback type `get_tree_nodev` expects.
    unsafe { bindings::get_tree_nodev(fc, Some(super_block::fill_super::<T>)) }
}

/// `fs_context_operations->reconfigure`: applies a remount's options.
///
/// # Safety
///
/// Called by the VFS with a valid reconfiguration context of `T`, holding `s_umount`.
unsafe extern "C" fn reconfigure<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    from_result(|| {
        // SAFETY: A reconfiguration context's root is the mounted root of a `T` superblock.
        let sb = unsafe { SuperBlock::<T>::from_raw((*(*fc).root).d_sb) };
        // SAFETY: `fc` is a context of `T` and the VFS owns it exclusively here.
        let params = T::reconfigure(sb, unsafe { options::<T>(fc) })?;
        sb.apply(&params);
        Ok(0)
    })
}

/// Hands the options of a context to `fill_super`.
///
/// # Safety
///
/// Same as [`options`].
pub(super) unsafe fn context_options<'a, T: FileSystem>(
    fc: *mut bindings::fs_context,
) -> &'a T::Options {
    // SAFETY: Same requirements as `options`.
    unsafe { options::<T>(fc) }
}
