// SPDX-License-Identifier: GPL-2.0

//! Negative control: allocates a buffer and forgets every pointer to it, so that kmemleak's
//! next scan (objects older than 5 s) must report an unreferenced object.
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

struct ControlKmemleak;

impl kernel::Module for ControlKmemleak {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let leaked: &'static mut [u8; 512] = KBox::leak(KBox::new([0x5a; 512], GFP_KERNEL)?);
        // Only the size is printed: a printed pointer could end up referenced from memory.
        pr_info!("leaked {} bytes\n", leaked.len());
        Ok(Self)
    }
}
