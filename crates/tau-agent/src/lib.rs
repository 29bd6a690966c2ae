//! The Deploy Agent: the only way a runtime container starts or stops on a host.
//!
//! (Minimal crate root of the engine branch; the agent branch owns the rest of this crate.)

pub mod swap;
