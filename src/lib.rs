#![deny(clippy::all)]
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]
//! fetchpool: HTTP fetches on a Rust worker pool, for Node.js.
//!
//! `engine` is plain Rust; `binding` is the only code that knows about Node.

pub mod engine;

mod binding;
