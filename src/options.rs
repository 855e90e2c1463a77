// SPDX-License-Identifier: GPL-2.0

//! Mount options: parsing, defaults, and their `/proc/mounts` form.
//!
//! Pure logic with no kernel state, unit-tested by KUnit below (in `locustfs_kunit.ko`).

use crate::vfs::{
    Kgid,
    Kuid,
    ParamError,
    UserNs, //
};
use core::fmt;
use kernel::{
    page::PAGE_SIZE,
    str::CStr, //
};

/// The default root directory mode: world-writable and sticky, like `/tmp`.
pub(crate) const DEFAULT_MODE: u16 = 0o1777;

/// The options of one locustfs instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// Root directory permission bits (`mode=`, octal).
    pub(crate) mode: u16,
    /// Root directory owner (`uid=`, a user of the instance's user namespace).
    pub(crate) uid: Kuid,
    /// Root directory group (`gid=`, a group of the instance's user namespace).
    pub(crate) gid: Kgid,
    /// Most files and directories, the root not counted (`max_files=`).
    pub(crate) max_files: u64,
    /// Largest size of one file in bytes (`max_file_size=`); `None` means up to `size`.
    pub(crate) max_file_size: Option<u64>,
    /// Most bytes of file data in the instance, in whole pages per file (`size=`).
    pub(crate) size: u64,
}

/// The largest `size` and `max_files` a mount may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ceiling {
    size: u64,
    max_files: u64,
}

impl Ceiling {
    /// Returns the ceiling of a mount in a user namespace other than the initial one, on a
    /// machine with `total_ram` bytes: the limits an initial-namespace mount gets by default
    /// (half of RAM, one file per two pages).
    pub(crate) fn user_ns(total_ram: u64) -> Self {
        let (size, max_files) = initial_limits(total_ram);
        Self { size, max_files }
    }
}

/// Returns the default `size` and `max_files` of a mount in the initial user namespace on a
/// machine with `total_ram` bytes: like tmpfs, half of RAM for data and one file per two pages.
fn initial_limits(total_ram: u64) -> (u64, u64) {
    let page = PAGE_SIZE as u64;
    (
        (total_ram / 2 / page * page).max(page),
        (total_ram / page / 2).max(1),
    )
}

impl Options {
    /// Returns the defaults on a machine with `total_ram` bytes for an instance whose root
    /// directory belongs to `owner`.
    ///
    /// A mount in the initial user namespace gets tmpfs's limits (half of RAM, one file per two
    /// pages of RAM); a mount in any other user namespace (`in_user_ns`), which needs no
    /// privilege on the host, gets a quarter of those.
    pub(crate) fn defaults(total_ram: u64, owner: (Kuid, Kgid), in_user_ns: bool) -> Self {
        let page = PAGE_SIZE as u64;
        let (size, max_files) = initial_limits(total_ram);
        let (size, max_files) = if in_user_ns {
            ((size / 4 / page * page).max(page), (max_files / 4).max(1))
        } else {
            (size, max_files)
        };
        Self {
            mode: DEFAULT_MODE,
            uid: owner.0,
            gid: owner.1,
            max_files,
            max_file_size: None,
            size,
        }
    }

    /// Returns the largest size a file may reach, at most `max_lfs` (the page cache's limit).
    pub(crate) fn file_size_limit(&self, max_lfs: i64) -> i64 {
        let limit = self.max_file_size.unwrap_or(self.size);
        i64::try_from(limit).map_or(max_lfs, |limit| limit.min(max_lfs))
    }

    /// Applies `key=value`; `value` is `None` for a bare flag.
    ///
    /// Ids are numbers in `ns`, the instance's user namespace: one with no mapping there is
    /// refused, as tmpfs refuses it. `size` and `max_files` above `ceiling` (if any) are
    /// refused.
    pub(crate) fn set(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        ns: &UserNs<'_>,
        ceiling: Option<&Ceiling>,
    ) -> Result<(), ParamError> {
        const UNMAPPED: &CStr = c": no mapping in the mounter's user namespace";
        const ABOVE: &CStr = c": above what a mount in a user namespace may ask for";
        let value = || value.ok_or(ParamError::BadValue);
        let within = |v: u64, max: fn(&Ceiling) -> u64| match ceiling {
            Some(c) if v > max(c) => Err(ParamError::Refused(ABOVE)),
            _ => Ok(v),
        };
        match key {
            b"mode" => self.mode = parse_mode(value()?)?,
            b"uid" => {
                self.uid = ns
                    .kuid(parse_id(value()?)?)
                    .ok_or(ParamError::Refused(UNMAPPED))?
            }
            b"gid" => {
                self.gid = ns
                    .kgid(parse_id(value()?)?)
                    .ok_or(ParamError::Refused(UNMAPPED))?
            }
            b"max_files" => {
                self.max_files = within(nonzero(parse_u64(value()?)?)?, |c| c.max_files)?
            }
            b"max_file_size" => self.max_file_size = Some(nonzero(parse_size(value()?)?)?),
            b"size" => self.size = within(nonzero(parse_size(value()?)?)?, |c| c.size)?,
            _ => return Err(ParamError::Unknown),
        }
        Ok(())
    }

    /// Writes each option that differs from `defaults` as `,name=value`, with ids as numbers
    /// in `reader`'s user namespace.
    pub(crate) fn write_changes(
        &self,
        defaults: &Self,
        reader: &UserNs<'_>,
        out: &mut impl fmt::Write,
    ) -> fmt::Result {
        if self.mode != defaults.mode {
            write!(out, ",mode={:o}", self.mode)?;
        }
        if self.uid != defaults.uid {
            write!(out, ",uid={}", reader.uid_of(self.uid))?;
        }
        if self.gid != defaults.gid {
            write!(out, ",gid={}", reader.gid_of(self.gid))?;
        }
        if self.max_files != defaults.max_files {
            write!(out, ",max_files={}", self.max_files)?;
        }
        if let Some(max) = self.max_file_size {
            write!(out, ",max_file_size={max}")?;
        }
        if self.size != defaults.size {
            write!(out, ",size={}", self.size)?;
        }
        Ok(())
    }
}

fn nonzero(v: u64) -> Result<u64, ParamError> {
    if v == 0 {
        Err(ParamError::BadValue)
    } else {
        Ok(v)
    }
}

/// Parses a decimal number.
fn parse_u64(s: &[u8]) -> Result<u64, ParamError> {
    parse_radix(s, 10)
}

fn parse_radix(s: &[u8], radix: u32) -> Result<u64, ParamError> {
    if s.is_empty() {
        return Err(ParamError::BadValue);
    }
    s.iter().try_fold(0u64, |acc, &c| {
        let digit = char::from(c).to_digit(radix).ok_or(ParamError::BadValue)?;
        acc.checked_mul(u64::from(radix))
            .and_then(|acc| acc.checked_add(u64::from(digit)))
            .ok_or(ParamError::BadValue)
    })
}

/// Parses a byte count with an optional `k`, `m` or `g` suffix (powers of 1024).
fn parse_size(s: &[u8]) -> Result<u64, ParamError> {
    let (digits, shift) = match s.last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n = parse_u64(digits)?;
    n.checked_mul(1u64 << shift).ok_or(ParamError::BadValue)
}

/// Parses permission bits in octal (at most `07777`).
fn parse_mode(s: &[u8]) -> Result<u16, ParamError> {
    let mode = parse_radix(s, 8)?;
    u16::try_from(mode)
        .ok()
        .filter(|&m| m <= 0o7777)
        .ok_or(ParamError::BadValue)
}

/// Parses a user or group id; `-1` (4294967295) is not a valid id.
fn parse_id(s: &[u8]) -> Result<u32, ParamError> {
    u32::try_from(parse_u64(s)?)
        .ok()
        .filter(|&id| id != u32::MAX)
        .ok_or(ParamError::BadValue)
}

// Built only into the test module `locustfs_kunit.ko` (`src/locustfs_kunit.rs`), whose object
// alone gets `--cfg locustfs_kunit` from `Kbuild`: `locustfs.ko` runs no tests.
#[cfg(locustfs_kunit)]
#[kernel::prelude::kunit_tests(locustfs_options)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// The defaults of an initial-namespace mount by root on a machine with 1 GiB.
    fn root_defaults() -> Options {
        let ns = UserNs::initial();
        let owner = ns.kuid(0).zip(ns.kgid(0));
        assert!(owner.is_some());
        owner.map_or_else(|| unreachable!(), |o| Options::defaults(1 << 30, o, false))
    }

    #[test]
    fn sizes_take_suffixes() {
        assert_eq!(parse_size(b"4096"), Ok(4096));
        assert_eq!(parse_size(b"4k"), Ok(4096));
        assert_eq!(parse_size(b"3M"), Ok(3 * MIB));
        assert_eq!(parse_size(b"2g"), Ok(2 << 30));
        assert_eq!(parse_size(b"k"), Err(ParamError::BadValue));
        assert_eq!(parse_size(b"12x"), Err(ParamError::BadValue));
        assert_eq!(
            parse_size(b"99999999999999999999"),
            Err(ParamError::BadValue)
        );
        assert_eq!(parse_size(b"17179869184g"), Err(ParamError::BadValue));
    }

    #[test]
    fn modes_are_octal_and_bounded() {
        assert_eq!(parse_mode(b"755"), Ok(0o755));
        assert_eq!(parse_mode(b"1777"), Ok(0o1777));
        assert_eq!(parse_mode(b"8"), Err(ParamError::BadValue));
        assert_eq!(parse_mode(b"17777"), Err(ParamError::BadValue));
        assert_eq!(parse_mode(b""), Err(ParamError::BadValue));
    }

    #[test]
    fn ids_reject_minus_one() {
        assert_eq!(parse_id(b"1000"), Ok(1000));
        assert_eq!(parse_id(b"4294967295"), Err(ParamError::BadValue));
        assert_eq!(parse_id(b"-1"), Err(ParamError::BadValue));
    }

    #[test]
    fn set_applies_known_keys_only() {
        let ns = UserNs::initial();
        let mut o = root_defaults();
        assert_eq!(o.set(b"size", Some(b"1m"), &ns, None), Ok(()));
        assert_eq!(o.size, MIB);
        assert_eq!(
            o.set(b"max_files", Some(b"0"), &ns, None),
            Err(ParamError::BadValue)
        );
        assert_eq!(o.set(b"size", None, &ns, None), Err(ParamError::BadValue));
        assert_eq!(
            o.set(b"colour", Some(b"red"), &ns, None),
            Err(ParamError::Unknown)
        );
        assert_eq!(o.file_size_limit(i64::MAX), MIB as i64);
        assert_eq!(o.set(b"max_file_size", Some(b"4k"), &ns, None), Ok(()));
        assert_eq!(o.file_size_limit(i64::MAX), 4096);
        assert_eq!(o.set(b"uid", Some(b"1000"), &ns, None), Ok(()));
        assert_eq!(Some(o.uid), ns.kuid(1000));
    }

    #[test]
    fn user_ns_mounts_get_a_quarter_and_a_ceiling() {
        let ns = UserNs::initial();
        let root = root_defaults();
        let user = Options::defaults(1 << 30, (root.uid, root.gid), true);
        assert_eq!((root.size, root.max_files), (512 * MIB, 131072));
        assert_eq!((user.size, user.max_files), (128 * MIB, 32768));
        let ceiling = Ceiling::user_ns(1 << 30);
        let mut o = user;
        assert_eq!(o.set(b"size", Some(b"512m"), &ns, Some(&ceiling)), Ok(()));
        assert!(matches!(
            o.set(b"size", Some(b"513m"), &ns, Some(&ceiling)),
            Err(ParamError::Refused(_))
        ));
        assert_eq!(o.size, 512 * MIB);
        assert!(matches!(
            o.set(b"max_files", Some(b"131073"), &ns, Some(&ceiling)),
            Err(ParamError::Refused(_))
        ));
        assert_eq!(o.set(b"size", Some(b"513m"), &ns, None), Ok(()));
    }

    #[test]
    fn only_changes_are_shown() {
        let defaults = root_defaults();
        let mut o = defaults;
        o.mode = 0o755;
        o.size = MIB;
        let mut s = ShowBuf {
            buf: [0; 64],
            len: 0,
        };
        assert!(o
            .write_changes(&defaults, &UserNs::initial(), &mut s)
            .is_ok());
        assert_eq!(&s.buf[..s.len], b",mode=755,size=1048576");
    }

    /// A fixed buffer implementing `fmt::Write`, for the test above.
    struct ShowBuf {
        buf: [u8; 64],
        len: usize,
    }

    impl fmt::Write for ShowBuf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            self.buf
                .get_mut(self.len..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
}
