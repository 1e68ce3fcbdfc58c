//! In-process integration tests of perfstress: test types defined here with
//! `#[perfstress::test]`, driven through `perfstress::run` as a perf
//! target's `main` would. Shared helpers are in `tests/tests/common.rs`.

#[path = "tests/batch.rs"]
mod batch;
#[path = "tests/common.rs"]
mod common;
#[path = "tests/lifecycle.rs"]
mod lifecycle;
#[path = "tests/registry.rs"]
mod registry;
