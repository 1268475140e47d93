//! What the engine asks of the operating system beyond what std and tokio
//! offer portably. Linux gets its tuning; every other system (and a Linux
//! build with the `portable` feature, so the fallback is compiled and tested
//! where the tuned build is) gets a fallback that behaves the same with the
//! tuning left out.

use tokio::net::TcpStream;

#[cfg(all(target_os = "linux", not(feature = "portable")))]
mod imp {
    use tokio::net::TcpStream;

    pub const PREFAULT: bool = true;

    pub fn quickack(tcp: &TcpStream) {
        // A failure only costs the delayed ACK it would have saved.
        let _ = socket2::SockRef::from(tcp).set_tcp_quickack(true);
    }

    pub fn populate_write(start: usize, len: usize) -> bool {
        // SAFETY: the caller passes a page-aligned range of its own private
        // anonymous memory; populating it changes no contents.
        // `MADV_POPULATE_WRITE` is Linux 5.14's; older kernels refuse it.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_POPULATE_WRITE) == 0 }
    }
}

#[cfg(not(all(target_os = "linux", not(feature = "portable"))))]
mod imp {
    use tokio::net::TcpStream;

    /// Prefaulting was measured to pay only for Linux's page faults; other
    /// systems allocate each body where it is read.
    pub const PREFAULT: bool = false;

    pub fn quickack(_tcp: &TcpStream) {}

    pub fn populate_write(_start: usize, _len: usize) -> bool {
        false
    }
}

/// Whether body buffers are worth faulting in on a helper thread.
pub const PREFAULT: bool = imp::PREFAULT;

/// Asks the kernel to acknowledge received data at once rather than after
/// the delayed-ACK timer (`TCP_QUICKACK`); nothing where there is no such
/// option.
pub fn quickack(tcp: &TcpStream) {
    imp::quickack(tcp)
}

/// Faults in the whole pages of `[start, start + len)` in one call. False
/// when the system cannot: the caller then touches each page itself.
pub fn populate_write(start: usize, len: usize) -> bool {
    imp::populate_write(start, len)
}
