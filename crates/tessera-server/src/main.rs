//! The `tessera-server` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    tessera_server::main()
}
