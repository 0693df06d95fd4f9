//! Writes the WASI preview1 -> component adapters into the folder given as the
//! only argument. The adapter binaries come from the crates.io crate
//! `wasi-preview1-component-adapter-provider`, pinned to fn0's wasmtime version.
use std::{env, fs, path::PathBuf, process::ExitCode};
use wasi_preview1_component_adapter_provider as p;

fn main() -> ExitCode {
    let Some(dir) = env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fn0-adapter-extract <output-dir>");
        return ExitCode::from(2);
    };
    let files: [(&str, &[u8]); 3] = [
        ("reactor", p::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER),
        ("command", p::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER),
        ("proxy", p::WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER),
    ];
    if let Err(e) = fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (kind, bytes) in files {
        let path = dir.join(format!("{}.{kind}.wasm", p::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME));
        // Write then rename so an interrupted run never leaves a truncated file.
        let tmp = path.with_extension("wasm.tmp");
        if let Err(e) = fs::write(&tmp, bytes).and_then(|_| fs::rename(&tmp, &path)) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}
