//! The fetch engine: plain Rust, no Node. Everything here can be driven and
//! tested from Rust alone.

mod alpn;
mod batch;
mod body;
mod classify;
mod client;
mod config;
mod connector;
mod error;
mod execute;
mod lane;
mod limits;
mod malloc;
mod normal_url;
mod prefault;
mod proxy;
mod redirect;
mod request;
mod response;
mod retry;
mod tls;
mod transport;
mod wire;

pub use batch::Sink;
pub use body::ACCEPT_ENCODING;
pub use client::{Client, Rejected, Start, StatsSnapshot, USER_AGENT};
pub use config::{
    default_workers, CallOptions, ClientConfig, Http2Mode, ProxyConfig, RedirectMode, RetryPolicy,
};
pub use error::{ErrorKind, FetchError, InvalidInput};
pub use malloc::released;
pub use request::{parse_url, RawRequest};
pub use response::{Completion, Headers, ResponseData, Timing};
