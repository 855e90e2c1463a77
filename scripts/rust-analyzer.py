#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Adds the locustfs crate to a rust-project.json written by the kernel's rust-analyzer target.

`make -C KDIR M=DIR rust-analyzer` (scripts/generate_rust_analyzer.py) lists a crate of an
external module only when a Kbuild or Makefile in the crate root's own directory names it;
locustfs's Kbuild sits above src/, where the crate root is. This adds the crate the way that
script adds the crates of samples/ and drivers/: the same dependencies, the kernel's
generated cfgs, edition 2021.

    scripts/rust-analyzer.py rust-project.json CRATE_ROOT
"""

import json
import pathlib
import sys

DEPS = ("core", "kernel", "pin_init", "zerocopy", "zerocopy_derive")


def main() -> int:
    project_path = pathlib.Path(sys.argv[1])
    root = pathlib.Path(sys.argv[2]).resolve()
    project = json.loads(project_path.read_text())
    crates = project["crates"]
    index = {crate["display_name"]: i for i, crate in enumerate(crates)}
    if any(crate["root_module"] == str(root) for crate in crates):
        return 0
    missing = [name for name in ("core", "kernel", "bindings") if name not in index]
    if missing:
        print(f"rust-analyzer.py: {project_path} has no crate {', '.join(missing)}",
              file=sys.stderr)
        return 1
    crates.append({
        "display_name": root.stem,
        "root_module": str(root),
        "is_workspace_member": True,
        "deps": [{"crate": index[name], "name": name} for name in DEPS if name in index],
        # The cfgs of include/generated/rustc_cfg, which the script gives `bindings` too.
        "cfg": crates[index["bindings"]]["cfg"],
        "edition": "2021",
        # Kbuild passes the generated bindings' path (--env-set); the repository's own build
        # writes them next to the sources.
        "env": {"RUST_MODFILE": "This is only for rust-analyzer",
                "LOCUSTFS_GENERATED_RS": str(root.parent / "vfs" / "generated.rs")},
    })
    project_path.write_text(json.dumps(project, sort_keys=True, indent=4) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
