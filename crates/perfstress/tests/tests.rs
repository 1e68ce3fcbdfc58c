//! In-process integration tests of perfstress: test types defined here with
//! `#[perfstress::test]`, driven through `perfstress::run` as a perf
//! target's `main` would. Shared helpers are in the `perfstress-testkit`
//! crate.

#[path = "tests/batch.rs"]
mod batch;
#[path = "tests/lifecycle.rs"]
mod lifecycle;
#[path = "tests/registry.rs"]
mod registry;
