//! Multi-process runs: the parent starts worker processes (this executable
//! again, in worker mode) and drives every stage in all of them together
//! over the framed protocol.

pub(crate) mod host;
pub(crate) mod parent;
pub(crate) mod protocol;
pub(crate) mod worker;
