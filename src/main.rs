//! The `kubetriage` binary: all the work is in the library, see `app`.

fn main() -> std::process::ExitCode {
    kubetriage::app::main()
}
