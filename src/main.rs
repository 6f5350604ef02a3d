fn main() -> std::process::ExitCode {
    admit::cli::main()
}
