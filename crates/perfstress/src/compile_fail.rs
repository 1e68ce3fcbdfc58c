//! The errors `#[perfstress::test]` gives for misuse, pinned by doctests
//! (compiled by `cargo test --doc` only).
//!
//! On something that is not a trait impl:
//!
//! ```compile_fail
//! struct NotATest;
//! #[perfstress::test]
//! impl NotATest {
//!     fn run_sync(&mut self) -> perfstress::Result<()> { Ok(()) }
//! }
//! ```
//!
//! On a generic impl (each instantiation must be registered as its own type):
//!
//! ```compile_fail
//! use perfstress::{NoOptions, PerfTest, TestContext};
//! struct Generic<T>(T);
//! #[perfstress::test]
//! impl<T: Send + 'static> PerfTest for Generic<T> {
//!     type Options = NoOptions;
//!     async fn new(_: &TestContext<NoOptions>) -> perfstress::Result<Self> { todo!() }
//!     fn run_sync(&mut self) -> perfstress::Result<()> { Ok(()) }
//! }
//! ```
//!
//! On an impl that defines neither variant of the operation:
//!
//! ```compile_fail
//! use perfstress::{NoOptions, PerfTest, TestContext};
//! struct Idle;
//! #[perfstress::test]
//! impl PerfTest for Idle {
//!     type Options = NoOptions;
//!     async fn new(_: &TestContext<NoOptions>) -> perfstress::Result<Self> { Ok(Idle) }
//! }
//! ```
//!
//! On an impl of another trait:
//!
//! ```compile_fail
//! struct Shown;
//! #[perfstress::test]
//! impl std::fmt::Display for Shown {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { Ok(()) }
//! }
//! ```
//!
//! With an unknown argument:
//!
//! ```compile_fail
//! use perfstress::{NoOptions, PerfTest, TestContext};
//! struct Named;
//! #[perfstress::test(nmae = "x")]
//! impl PerfTest for Named {
//!     type Options = NoOptions;
//!     async fn new(_: &TestContext<NoOptions>) -> perfstress::Result<Self> { Ok(Named) }
//!     fn run_sync(&mut self) -> perfstress::Result<()> { Ok(()) }
//! }
//! ```
//!
//! And the same test, written correctly, compiles (so the ones above fail
//! for the reason they show):
//!
//! ```
//! use perfstress::{NoOptions, PerfTest, TestContext};
//! struct Named;
//! #[perfstress::test(description = "x")]
//! impl PerfTest for Named {
//!     type Options = NoOptions;
//!     async fn new(_: &TestContext<NoOptions>) -> perfstress::Result<Self> { Ok(Named) }
//!     fn run_sync(&mut self) -> perfstress::Result<()> { Ok(()) }
//! }
//! ```
