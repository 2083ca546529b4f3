//! Builds the scimkit component (guest/ for wasm32-wasip2) so that a fresh clone needs no step of its own.
//!
//! The component is written to `target/scimkit.wasm` at the workspace root, a stable path for other hosts,
//! and embedded in this crate (and so in the `scimkit` binary and the native library).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().expect("runtime sits in the workspace").to_path_buf();
    // Relative to this package, so that a target directory copied to another checkout watches that
    // checkout's files rather than the original's.
    for watched in ["guest/src", "guest/Cargo.toml", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed=../{watched}");
    }
    ensure_target();
    let target_dir = root.join("target").join("component");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--package", "scimkit-guest", "--target", TARGET, "--profile", "guest", "--locked"])
        .arg("--target-dir")
        .arg(&target_dir);
    scrub_build_script_env(&mut cmd);
    let status = cmd.status().expect("cannot run cargo to build the component");
    assert!(status.success(), "building the scimkit component failed");
    let built = target_dir.join(TARGET).join("guest").join("scimkit_guest.wasm");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("scimkit.wasm");
    copy(&built, &out);
    copy(&built, &root.join("target").join("scimkit.wasm"));
    println!("cargo:rustc-env=SCIMKIT_COMPONENT={}", out.display());
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
}

/// rustup does not install the targets named in rust-toolchain.toml for a toolchain that is already
/// installed, and a fresh machine lacks this one: add it when its standard library is missing.
fn ensure_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output().expect("cannot run rustc");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(TARGET).exists() {
        return;
    }
    let status = Command::new("rustup").args(["target", "add", TARGET]).status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "the {TARGET} target is missing and `rustup target add {TARGET}` failed"
    );
}

/// A nested cargo must not inherit the variables cargo sets for this build script (target, flags, profile).
fn scrub_build_script_env(cmd: &mut Command) {
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let keep = matches!(key.as_ref(), "CARGO_HOME" | "CARGO_MAKEFLAGS" | "RUSTUP_HOME" | "RUSTUP_TOOLCHAIN")
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTRIES_");
        let cargo_set = key.starts_with("CARGO_")
            || key.starts_with("RUSTC")
            || key.starts_with("RUSTDOC")
            || matches!(
                key.as_ref(),
                "RUSTFLAGS" | "TARGET" | "HOST" | "OUT_DIR" | "OPT_LEVEL" | "PROFILE" | "DEBUG" | "NUM_JOBS"
            );
        if cargo_set && !keep {
            cmd.env_remove(key.as_ref());
        }
    }
}
