//! An opt-in counting allocator: installed in a perf binary, it lets the
//! results say how many allocations (and bytes) each operation of the timed
//! run made.
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOCATOR: perfstress::alloc::CountingAllocator = perfstress::alloc::CountingAllocator;
//!
//! fn main() {
//!     perfstress::main()
//! }
//! ```
//!
//! It forwards to the system allocator and adds two relaxed atomic
//! increments per allocation, on counters of the allocating thread's own
//! (no cache line is shared between threads, up to 256 threads). Frees are
//! not counted: the figures are allocations made, not memory held.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

/// Counter slots: each thread counts in a slot of its own (the first
/// threads each get one; later ones share, still exactly), so counting
/// never contends across threads.
const SLOTS: usize = 256;

/// One thread's counts, on cache lines of its own.
#[repr(align(128))]
struct Slot {
    allocations: AtomicU64,
    bytes: AtomicU64,
}

static COUNTERS: [Slot; SLOTS] = [const {
    Slot {
        allocations: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    }
}; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    // `const` and without a destructor: reading it never allocates.
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The system allocator, counting allocations; install it with
/// `#[global_allocator]` (see the [module](self) docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAllocator;

impl CountingAllocator {
    #[inline(always)]
    fn count(size: usize) {
        let slot = SLOT
            .try_with(|slot| {
                let mut index = slot.get();
                if index == usize::MAX {
                    index = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
                    slot.set(index);
                }
                index
            })
            // A thread being torn down: any slot counts the same.
            .unwrap_or(0);
        let counters = &COUNTERS[slot];
        counters.allocations.fetch_add(1, Ordering::Relaxed);
        counters.bytes.fetch_add(size as u64, Ordering::Relaxed);
        if !INSTALLED.load(Ordering::Relaxed) {
            INSTALLED.store(true, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counting touches only atomics (it never allocates).
unsafe impl GlobalAlloc for CountingAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::count(layout.size());
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::count(layout.size());
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation is one more allocation, of its new size.
        Self::count(new_size);
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations counted so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationCounts {
    /// Allocations (and reallocations) made.
    pub allocations: u64,
    /// Bytes they asked for.
    pub bytes: u64,
}

impl AllocationCounts {
    /// What was counted since `earlier`.
    pub fn since(self, earlier: AllocationCounts) -> AllocationCounts {
        AllocationCounts {
            allocations: self.allocations.saturating_sub(earlier.allocations),
            bytes: self.bytes.saturating_sub(earlier.bytes),
        }
    }
}

/// The counts so far; `None` unless [`CountingAllocator`] is the global
/// allocator of this process.
pub fn counts() -> Option<AllocationCounts> {
    INSTALLED.load(Ordering::Relaxed).then(totals)
}

fn totals() -> AllocationCounts {
    COUNTERS
        .iter()
        .fold(AllocationCounts::default(), |sum, slot| AllocationCounts {
            allocations: sum.allocations + slot.allocations.load(Ordering::Relaxed),
            bytes: sum.bytes + slot.bytes.load(Ordering::Relaxed),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_goes_through_it() {
        // Not the global allocator of the unit tests: called directly.
        let before = totals();
        let layout = Layout::from_size_align(100, 8).unwrap();
        // SAFETY: a valid layout; the block is freed with it.
        unsafe {
            let block = CountingAllocator.alloc(layout);
            assert!(!block.is_null());
            let block = CountingAllocator.realloc(block, layout, 200);
            CountingAllocator.dealloc(block, Layout::from_size_align(200, 8).unwrap());
        }
        let after = counts().expect("installed once it counted");
        let delta = after.since(before);
        assert!(delta.allocations >= 2);
        assert!(delta.bytes >= 300);
    }
}
