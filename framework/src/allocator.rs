//! The allocator of every binary linking the framework (the three processors, `xtask`, tests
//! and benches), and its one setting.
//!
//! A date's reads build tens of thousands of rows on DuckDB's reader threads and drop them on
//! the runtime's. glibc's malloc spent a fifth of MLFS's busiest-date run in its arenas
//! (`malloc_consolidate`, `_int_free`); mimalloc's thread-local heaps took that date from 44 to
//! 39–43 ms (median of 15 runs, three alternating pairs of builds).
//!
//! mimalloc's arena asks for transparent huge pages, and they stay on: within a long process
//! they made the bench's season 5–20 % faster than `MIMALLOC_ALLOW_THP=0`, though a fresh
//! process on the 2-core VM sometimes stalls 100+ ms on a first touch of one (README, "Where the
//! time goes"); the variable is left to the job that prefers steadier fresh processes.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of mimalloc.h (the same index in mimalloc 2 and 3).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory in the process instead of returning it to the OS a moment later.
///
/// A processor job is a short process that frees and reallocates the same few hundred MiB
/// chunk after chunk; after each purge the kernel had to fault and zero those pages again
/// (`clear_page_erms` was a fifth of a PGS season run). Without purging, the season run took
/// 69k page faults instead of 264k and 3.4 s of CPU instead of 4.0 s. Called first thing by
/// every binary's `main`; the memory goes back to the OS when the job exits.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; it is thread-safe
    // and accepts any option index and value.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
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
        keep_freed_memory();
        assert_eq!(purge_delay(), -1);
    }
}
