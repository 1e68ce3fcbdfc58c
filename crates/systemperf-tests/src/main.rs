//! The `systemperf` runner: every built-in system test, run from the
//! command line (`systemperf SleepTest -d 2`). The end-to-end tests of this
//! package start it as a user or PerfAutomation would.

// The counting allocator, so the end-to-end tests see allocations per
// operation (`perfstress::alloc`); the `perf` bench of `systemperf` itself
// runs on the system allocator.
#[global_allocator]
static ALLOCATOR: perfstress::alloc::CountingAllocator = perfstress::alloc::CountingAllocator;

fn main() {
    systemperf::main()
}
