//! Keeping CPU-saturating runs away from timing-sensitive ones.
//!
//! The test harness runs tests on parallel threads. A run whose figures
//! depend on timing (ops/s within 5%, a status line each second) fails on
//! a machine whose cores another test keeps busy, so the two kinds take
//! opposite sides of one lock.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static CPU: RwLock<()> = RwLock::new(());

/// Held by runs whose figures depend on timing (e.g. ops/s within 5%):
/// they may run together, but never next to a CPU-saturating run.
pub fn timing_sensitive() -> RwLockReadGuard<'static, ()> {
    CPU.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held by runs that keep every core busy (NoOpTest, spinning batches, a
/// cargo build): nothing timing-sensitive runs next to them.
pub fn cpu_saturating() -> RwLockWriteGuard<'static, ()> {
    CPU.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}
