// SPDX-License-Identifier: GPL-2.0

//! Negative control: takes two mutexes in both orders, so that lockdep must report a possible
//! circular locking dependency (there is no real deadlock: one task, one after the other).
//!
//! Loaded only by `scripts/controls.sh`, which requires the suite's verdicts to fail on it.

use kernel::{new_mutex, prelude::*, sync::Mutex};

module! {
    type: ControlLockdep,
    name: "control_lockdep",
    authors: ["locustfs developers"],
    description: "Trips lockdep on purpose (AB-BA lock order)",
    license: "GPL",
}

struct ControlLockdep;

impl kernel::Module for ControlLockdep {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Two call sites of `new_mutex!`: two lock classes.
        let a = KBox::pin_init(new_mutex!(0u32, "control_lockdep_a"), GFP_KERNEL)?;
        let b = KBox::pin_init(new_mutex!(0u32, "control_lockdep_b"), GFP_KERNEL)?;
        lock_in_order(&a, &b);
        // The reverse order closes the cycle: lockdep reports it here.
        lock_in_order(&b, &a);
        pr_info!("took two mutexes in both orders\n");
        Ok(Self)
    }
}

/// Holds `first`, then `second`, then releases both.
fn lock_in_order(first: &Mutex<u32>, second: &Mutex<u32>) {
    let mut outer = first.lock();
    let mut inner = second.lock();
    *outer += 1;
    *inner += 1;
}
