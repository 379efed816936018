fn main() -> std::process::ExitCode {
    porter::cli::main()
}
