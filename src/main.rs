#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    no_transparent_huge_pages();
    admit::cli::main()
}

/// Opt this process out of transparent huge pages, as `MIMALLOC_ALLOW_THP=0` would (mimalloc
/// reads that before `main`, so it is set here the way mimalloc itself sets it). With them,
/// each first touch of mimalloc's arena or a guest's memory zeroes and keeps 2 MiB: compiling
/// a 1.5 MB policy peaked at 135 MB instead of 76 MB, a check of 10,000 objects at 120 MB
/// instead of 91 MB, for no measurable speed (BENCHMARKS.md, "Memory").
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and touches no memory of ours; if the
    // kernel refuses it, nothing changes.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
