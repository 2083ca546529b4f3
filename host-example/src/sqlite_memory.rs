//! SQLite's memory from the process's own allocator (mimalloc in the `scimkit` binary) instead of the C
//! library's, and without SQLite's memory statistics, which take a global mutex at every allocation: under
//! write load SQLite allocates and frees several times per row, on every thread that holds a connection.

use rusqlite::ffi;
use std::alloc::Layout;
use std::os::raw::{c_int, c_void};

/// Bytes before each block, holding its size (the allocator needs it back to free the block).
const HEADER: usize = 8;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, HEADER).ok()
}

unsafe extern "C" fn x_malloc(size: c_int) -> *mut c_void {
    let Some(layout) = usize::try_from(size).ok().and_then(layout) else { return std::ptr::null_mut() };
    // SAFETY: the layout has a non-zero size (the header).
    let block = unsafe { std::alloc::alloc(layout) };
    if block.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: the block is at least HEADER bytes, aligned for a u64.
    unsafe {
        block.cast::<u64>().write(size as u64);
        block.add(HEADER).cast()
    }
}

/// The block and the size asked for it, from what [`x_malloc`] returned.
unsafe fn block_of(p: *mut c_void) -> (*mut u8, usize) {
    // SAFETY: `p` came from `x_malloc` or `x_realloc`: the header is just before it.
    unsafe {
        let block = p.cast::<u8>().sub(HEADER);
        (block, block.cast::<u64>().read() as usize)
    }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: as for `block_of`; the layout is the one the block was allocated with.
    unsafe {
        let (block, size) = block_of(p);
        std::alloc::dealloc(block, layout(size).expect("a size that was allocated"));
    }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, size: c_int) -> *mut c_void {
    let Ok(new) = usize::try_from(size) else { return std::ptr::null_mut() };
    if layout(new).is_none() {
        return std::ptr::null_mut();
    }
    // SAFETY: SQLite reallocates only blocks it got from `x_malloc` (never null here).
    unsafe {
        let (block, old) = block_of(p);
        let moved = std::alloc::realloc(block, layout(old).expect("a size that was allocated"), new + HEADER);
        if moved.is_null() {
            return std::ptr::null_mut();
        }
        moved.cast::<u64>().write(new as u64);
        moved.add(HEADER).cast()
    }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    // SAFETY: as for `block_of`.
    unsafe { block_of(p).1 as c_int }
}

unsafe extern "C" fn x_roundup(size: c_int) -> c_int {
    size.saturating_add(7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Configures SQLite's memory for the whole process. It must come before SQLite is first used (SQLite refuses
/// it afterwards, and this says so): call it first thing in `main`.
pub fn configure() -> anyhow::Result<()> {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(x_malloc),
        xFree: Some(x_free),
        xRealloc: Some(x_realloc),
        xSize: Some(x_size),
        xRoundup: Some(x_roundup),
        xInit: Some(x_init),
        xShutdown: Some(x_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: SQLite copies the methods; nothing else uses SQLite yet (see above).
    let (malloc, stats) = unsafe {
        (
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const ffi::sqlite3_mem_methods),
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int),
        )
    };
    anyhow::ensure!(
        malloc == ffi::SQLITE_OK && stats == ffi::SQLITE_OK,
        "SQLite was used before its memory was configured ({malloc}, {stats})"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_size_through_reallocation() {
        // SAFETY: the blocks are used as SQLite uses them: allocated, grown, sized, freed.
        unsafe {
            let p = x_malloc(10);
            assert!(!p.is_null());
            assert_eq!(x_size(p), 10);
            p.cast::<u8>().write_bytes(7, 10);
            let q = x_realloc(p, 4000);
            assert_eq!((x_size(q), q.cast::<u8>().add(9).read()), (4000, 7));
            x_free(q);
            x_free(std::ptr::null_mut());
            assert_eq!((x_roundup(1), x_roundup(8), x_roundup(9)), (8, 8, 16));
        }
    }
}
