//! The fetch engine: plain Rust, no Node. Everything here can be driven and
//! tested from Rust alone.

mod adaptive;
mod alpn;
mod batch;
mod body;
mod chunked;
mod classify;
mod client;
mod config;
mod connector;
mod deliver;
mod error;
mod execute;
mod handoff;
mod head;
mod idle;
mod integrity;
mod joined;
mod lane;
#[cfg(test)]
mod lane_ab;
mod limits;
#[cfg(test)]
mod loopback;
mod malloc;
mod network;
mod normal_url;
mod platform;
mod prefault;
mod private_net;
mod proxy;
mod redirect;
mod request;
mod response;
mod retry;
mod save;
mod save_file;
mod scheduler;
mod speed;
mod stats;
mod tls;
mod transport;
mod unprocessed;
mod userinfo;
mod wire;
#[cfg(test)]
mod wire_oracle;

pub use body::ACCEPT_ENCODING;
pub use client::{Client, Rejected};
pub use config::{
    default_workers, CallOptions, ClientConfig, Http2Mode, ProxyConfig, RedirectMode, RetryPolicy,
    DEFAULT_IDLE, DEFAULT_IDLE_PER_HOST, DEFAULT_MIN_SPEED,
};
pub use deliver::Sink;
pub use error::{ErrorKind, FetchError, InvalidInput};
pub use malloc::released;
pub use network::USER_AGENT;
pub use private_net::{is_public, AddressFilter};
pub use request::{parse_url, RawRequest};
pub use response::{Completion, Headers, ResponseData, Timing};
pub use save::{SaveOptions, Saved};
pub use scheduler::Start;
pub use speed::MinSpeed;
pub use stats::StatsSnapshot;
