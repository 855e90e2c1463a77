// SPDX-License-Identifier: GPL-2.0

//! Negative control: allocates buffers and forgets every pointer to them, so that kmemleak's
//! next scan (objects older than 5 s) must report an unreferenced object.
//!
//! It leaks several: kmemleak cannot tell a pointer from a stale copy of one, and a copy of
//! the last pointer left in memory it scans (a task stack kept for reuse, say) hides that one
//! object from it. One run of the controls saw no report for a single leaked buffer.
//!
//! Loaded only by `scripts/controls.sh`, which requires the suite's verdicts to fail on it.

use kernel::prelude::*;

module! {
    type: ControlKmemleak,
    name: "control_kmemleak",
    authors: ["locustfs developers"],
    description: "Leaks one allocation on purpose",
    license: "GPL",
}

/// How many buffers are leaked.
const LEAKED: usize = 8;

struct ControlKmemleak;

impl kernel::Module for ControlKmemleak {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        for _ in 0..LEAKED {
            let _ = KBox::leak(KBox::new([0x5a_u8; 512], GFP_KERNEL)?);
        }
        // Only the sizes are printed: a printed pointer could end up referenced from memory.
        pr_info!("leaked {} buffers of 512 bytes\n", LEAKED);
        Ok(Self)
    }
}
