#![deny(clippy::all)]
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]
// Functions short enough to hold in mind: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]
//! fetchpool: HTTP fetches on a Rust worker pool, for Node.js.
//!
//! `engine` is plain Rust; `binding` is the only code that knows about Node.

pub mod engine;

mod binding;
