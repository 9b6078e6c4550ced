//! The `tessera-server` binary; everything lives in the library.

// The session route allocates many small, short-lived buffers; mimalloc serves them for
// about half the instructions of glibc's malloc (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tessera_server::main()
}
