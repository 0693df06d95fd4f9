//! How a guest failure is described: a short cause (no backtrace: it goes to
//! the caller in the error body) and, apart, a compact backtrace for the
//! function's log stream. Frames are named from the component's name
//! section (wasmtime keeps it in the artifact); file and line would need
//! DWARF, which the engine does not parse (engine.rs).
use std::fmt::Write;

/// Frames kept in a backtrace (wasmtime captures at most 20 by default).
const MAX_FRAMES: usize = 20;
/// One frame's line is cut to this many bytes (a C++ template name can run
/// to kilobytes).
const MAX_FRAME_LINE: usize = 200;
/// The cause of a failure is cut to this many bytes.
const MAX_CAUSE: usize = 500;

/// The short cause of a guest failure: the trap ("wasm trap: unreachable")
/// or the root error, without the wasm backtrace.
pub(crate) fn cause(e: &wasmtime::Error) -> String {
    let msg = match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("wasm trap: {}", trap_name(*trap)),
        None => e.root_cause().to_string(),
    };
    cut(msg, MAX_CAUSE)
}

/// Short names for the traps guests hit; the rest keep wasmtime's words.
fn trap_name(trap: wasmtime::Trap) -> String {
    use wasmtime::Trap::*;
    match trap {
        UnreachableCodeReached => "unreachable".into(),
        StackOverflow => "stack overflow".into(),
        MemoryOutOfBounds => "out-of-bounds memory access".into(),
        IntegerDivisionByZero => "integer divide by zero".into(),
        IntegerOverflow => "integer overflow".into(),
        IndirectCallToNull => "call through an uninitialized table element".into(),
        BadSignature => "indirect call type mismatch".into(),
        TableOutOfBounds => "out-of-bounds table access".into(),
        other => other.to_string().trim_start_matches("wasm trap: ").to_string(),
    }
}

/// The wasm frames of a failure, innermost first, one line each
/// (`#0 module!function +0x1a2`), a run of identical frames (a runaway
/// recursion) folded into one line. Empty when the error has none.
pub(crate) fn backtrace(e: &wasmtime::Error) -> String {
    let Some(trace) = e.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return String::new();
    };
    let lines: Vec<String> = trace.frames().iter().take(MAX_FRAMES).map(frame_line).collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let mut run = 1;
        while i + run < lines.len() && lines[i + run] == lines[i] {
            run += 1;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        if run == 1 {
            let _ = write!(out, "#{i} {}", lines[i]);
        } else {
            let _ = write!(out, "#{i}-{} {} ({run} times)", i + run - 1, lines[i]);
        }
        i += run;
    }
    if trace.frames().len() >= MAX_FRAMES {
        out.push_str("\n(more frames not shown)");
    }
    out
}

fn frame_line(frame: &wasmtime::FrameInfo) -> String {
    let mut line = String::new();
    if let Some(module) = frame.module().name() {
        let _ = write!(line, "{module}!");
    }
    match frame.func_name() {
        // A C++ or Rust symbol (a JS engine's) reads better demangled.
        // wasmtime's own helper; the version is pinned (Cargo.toml).
        Some(name) => {
            let _ = wasmtime::component::__internal::wasmtime_environ::demangle_function_name(&mut line, name);
        }
        None => {
            let _ = write!(line, "<wasm function {}>", frame.func_index());
        }
    }
    if let Some(offset) = frame.func_offset() {
        let _ = write!(line, " +{offset:#x}");
    }
    cut(line, MAX_FRAME_LINE)
}

fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
        s.push('…');
    }
    s
}

/// Bytes as people read them: "128 MiB", "100 MB", "64 KiB", "300 bytes".
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 6] =
        [(1 << 30, "GiB"), (1_000_000_000, "GB"), (1 << 20, "MiB"), (1_000_000, "MB"), (1 << 10, "KiB"), (1000, "kB")];
    for (size, unit) in UNITS {
        if n >= size && n % size == 0 {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

/// A duration as people read it: "15 s", "10 ms", "250 µs".
pub(crate) fn duration(d: std::time::Duration) -> String {
    let ns = d.as_nanos();
    if ns >= 1_000_000_000 && ns % 1_000_000_000 == 0 {
        format!("{} s", ns / 1_000_000_000)
    } else if ns >= 1_000_000 && ns % 1_000_000 == 0 {
        format!("{} ms", ns / 1_000_000)
    } else if ns >= 1_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{} µs", ns / 1000)
    }
}
