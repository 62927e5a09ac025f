//! The allocator of every binary linking the framework (the three processors, `xtask`, tests
//! and benches), and the process's memory settings.
//!
//! A date's reads build tens of thousands of rows on DuckDB's reader threads and drop them on
//! the runtime's. glibc's malloc spent a fifth of MLFS's busiest-date run in its arenas
//! (`malloc_consolidate`, `_int_free`); mimalloc's thread-local heaps took that date from 44 to
//! 39–43 ms (median of 15 runs, three alternating pairs of builds).
//!
//! mimalloc also replaces `malloc` and its family for the whole process (the `override` feature
//! of `libmimalloc-sys`): the binary exports them, so DuckDB's C++ allocations (`operator new`,
//! `malloc` in `libduckdb.so`) bind to mimalloc instead of glibc, whose arenas were still ~8 % of
//! MLFS's runs through DuckDB. This is glibc's documented way of replacing its allocator (symbol
//! interposition; mimalloc provides every function glibc lists). Busiest date, medians of 15
//! runs, three alternating pairs within a process: PGS 21.6–22.6 ms against 22.8–23.1, PCF
//! 25.1–27.9 against 27.3–28.1, MLFS 36.0–38.9 against 37.8–39.6; as fresh processes (two
//! pairs) exec to exit PGS 128 ms against 139–144, PCF 135–137 against 142–145, MLFS 147–153
//! against 156–158.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of mimalloc.h (the same index in mimalloc 2 and 3).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The memory settings of a processor job, called first thing by every binary's `main`:
/// freed memory stays in the process, and transparent huge pages are off.
pub fn configure() {
    keep_freed_memory();
    avoid_huge_pages();
}

/// Keeps freed memory in the process instead of returning it to the OS a moment later.
///
/// A processor job is a short process that frees and reallocates the same few hundred MiB
/// chunk after chunk; after each purge the kernel had to fault and zero those pages again
/// (`clear_page_erms` was a fifth of a PGS season run). Without purging, the season run took
/// 69k page faults instead of 264k and 3.4 s of CPU instead of 4.0 s. The memory goes back to
/// the OS when the job exits.
fn keep_freed_memory() {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; it is thread-safe
    // and accepts any option index and value.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
}

/// Turns transparent huge pages off for the process.
///
/// mimalloc reserves its arena with `MADV_HUGEPAGE`, so the first touch of every 2 MiB of it
/// faults in a whole huge page. A job touches all its memory for the first time, and on the
/// 2-core VM such faults sometimes stalled for 100 ms and more: fresh processes of the busiest
/// date, fifteen each, MLFS's run in a mean of 90–125 ms (90th percentile 231–375) against
/// 53–55 ms (56–58) without huge pages, medians alike; PGS's season run in a fresh process
/// 1.85–2.10 s against 0.84–0.86 s. The kernel checks the flag at each fault, so mappings made
/// before `main` follow it too; a kernel that refuses it keeps its default. Child processes
/// inherit it: what `xtask` starts (`bench --fresh` runs, `cargo test` under `xtask test`) runs
/// without huge pages as well.
fn avoid_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and sets a flag of the calling process;
    // it reads and writes no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purge_delay() -> std::ffi::c_long {
        // SAFETY: reads an integer of mimalloc's option table.
        unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
    }

    #[test]
    fn the_purge_delay_is_the_option_set_and_turns_purging_off() {
        // 1000 ms is mimalloc 3's default purge delay and no other option's default, so the
        // index names the purge delay (unless MIMALLOC_PURGE_DELAY overrides it).
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay(), 1000);
        }
        configure();
        assert_eq!(purge_delay(), -1);
    }

    #[test]
    fn duckdb_allocates_from_mimalloc() {
        // `duckdb_malloc` is `malloc` called inside libduckdb.so: it reaches mimalloc only if
        // the override binds the shared library's calls to this binary's allocator.
        // SAFETY: a 64-byte allocation, checked and then freed by DuckDB's matching `free`.
        unsafe {
            let pointer = libduckdb_sys::duckdb_malloc(64);
            assert!(!pointer.is_null());
            assert!(libmimalloc_sys::mi_is_in_heap_region(pointer));
            libduckdb_sys::duckdb_free(pointer);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_off_once_avoided() {
        // Not `configure`: the purge test checks the default delay before it sets it.
        avoid_huge_pages();
        // SAFETY: PR_GET_THP_DISABLE only returns the process's flag.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1);
    }
}
