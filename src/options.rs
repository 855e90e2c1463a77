// SPDX-License-Identifier: GPL-2.0

//! Mount options: parsing, defaults, and their `/proc/mounts` form.
//!
//! Pure logic with no kernel state, unit-tested by KUnit below (in `locustfs_kunit.ko`).

use crate::vfs::ParamError;
use core::fmt;
use kernel::page::PAGE_SIZE;

/// The default root directory mode: world-writable and sticky, like `/tmp`.
pub(crate) const DEFAULT_MODE: u16 = 0o1777;

/// The options of one locustfs instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// Root directory permission bits (`mode=`, octal).
    pub(crate) mode: u16,
    /// Root directory owner (`uid=`).
    pub(crate) uid: u32,
    /// Root directory group (`gid=`).
    pub(crate) gid: u32,
    /// Most files and directories, the root not counted (`max_files=`).
    pub(crate) max_files: u64,
    /// Largest size of one file in bytes (`max_file_size=`); `None` means up to `size`.
    pub(crate) max_file_size: Option<u64>,
    /// Most bytes of file data in the instance, in whole pages per file (`size=`).
    pub(crate) size: u64,
}

impl Options {
    /// Returns the defaults on a machine with `total_ram` bytes: like tmpfs, half of RAM for
    /// data and one file per two pages of RAM.
    pub(crate) fn defaults(total_ram: u64) -> Self {
        let page = PAGE_SIZE as u64;
        Self {
            mode: DEFAULT_MODE,
            uid: 0,
            gid: 0,
            max_files: (total_ram / page / 2).max(1),
            max_file_size: None,
            size: (total_ram / 2 / page * page).max(page),
        }
    }

    /// Returns the largest size a file may reach, at most `max_lfs` (the page cache's limit).
    pub(crate) fn file_size_limit(&self, max_lfs: i64) -> i64 {
        let limit = self.max_file_size.unwrap_or(self.size);
        i64::try_from(limit).map_or(max_lfs, |limit| limit.min(max_lfs))
    }

    /// Applies `key=value`; `value` is `None` for a bare flag.
    pub(crate) fn set(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ParamError> {
        let value = || value.ok_or(ParamError::BadValue);
        match key {
            b"mode" => self.mode = parse_mode(value()?)?,
            b"uid" => self.uid = parse_id(value()?)?,
            b"gid" => self.gid = parse_id(value()?)?,
            b"max_files" => self.max_files = nonzero(parse_u64(value()?)?)?,
            b"max_file_size" => self.max_file_size = Some(nonzero(parse_size(value()?)?)?),
            b"size" => self.size = nonzero(parse_size(value()?)?)?,
            _ => return Err(ParamError::Unknown),
        }
        Ok(())
    }

    /// Writes each option that differs from `defaults` as `,name=value`.
    pub(crate) fn write_changes(&self, defaults: &Self, out: &mut impl fmt::Write) -> fmt::Result {
        if self.mode != defaults.mode {
            write!(out, ",mode={:o}", self.mode)?;
        }
        if self.uid != defaults.uid {
            write!(out, ",uid={}", self.uid)?;
        }
        if self.gid != defaults.gid {
            write!(out, ",gid={}", self.gid)?;
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
        let mut o = Options::defaults(1 << 30);
        assert_eq!(o.set(b"size", Some(b"1m")), Ok(()));
        assert_eq!(o.size, MIB);
        assert_eq!(o.set(b"max_files", Some(b"0")), Err(ParamError::BadValue));
        assert_eq!(o.set(b"size", None), Err(ParamError::BadValue));
        assert_eq!(o.set(b"colour", Some(b"red")), Err(ParamError::Unknown));
        assert_eq!(o.file_size_limit(i64::MAX), MIB as i64);
        assert_eq!(o.set(b"max_file_size", Some(b"4k")), Ok(()));
        assert_eq!(o.file_size_limit(i64::MAX), 4096);
    }

    #[test]
    fn only_changes_are_shown() {
        let defaults = Options::defaults(1 << 30);
        let mut o = defaults;
        o.mode = 0o755;
        o.size = MIB;
        let mut s = ShowBuf {
            buf: [0; 64],
            len: 0,
        };
        assert!(o.write_changes(&defaults, &mut s).is_ok());
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
