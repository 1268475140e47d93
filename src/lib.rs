#![deny(clippy::all)]
//! fetchpool: HTTP fetches on a Rust worker pool, for Node.js.
//!
//! `engine` is plain Rust; `binding` is the only code that knows about Node.

pub mod engine;

mod binding;
