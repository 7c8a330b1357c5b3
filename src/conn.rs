//! Client connections under a bound, so that idle or slow clients cannot
//! take the server's file descriptors and memory:
//!
//! - at most `max_connections` open at once (`MAMIS_MAX_CONNECTIONS`). When
//!   they are all taken, a new connection asks every connection that has no
//!   request in progress (idle between requests, or still sending headers)
//!   to close, then waits for a free place; meanwhile further clients wait
//!   in the kernel's listen queue, costing the process nothing. Only
//!   connections idle since their last write, or in one request's headers,
//!   for `SHED_AFTER` (250 ms) are closed so: a response being written is
//!   left alone while its writes go on;
//! - a request's headers must arrive within `header_timeout` of its first
//!   byte (or of connecting, for a new connection): a client that connects
//!   and says nothing, or trickles its headers, is closed;
//! - between requests, or while a body is being read or a response written,
//!   a connection may stay silent for `idle_timeout` at most.
//!
//! All of it lives in the accepted socket (`Guarded`), under poem's
//! `Server`, which sees an ordinary stream. The phase of a connection is
//! told from its bytes: a read after a response starts a request's headers,
//! a blank line (`\r\n\r\n` or `\n\n`) ends them, a write ends the request.
//! That is HTTP/1.1, what browsers and reverse proxies speak to MAMIS; an
//! HTTP/2 client (prior knowledge, no TLS) is held to the same deadlines
//! between the server's writes.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use poem::{
    http::uri::Scheme,
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::{Notify, OwnedSemaphorePermit, Semaphore, futures::OwnedNotified},
    time::{Instant, Sleep},
};

use crate::config::Config;

/// The bounds of `conn`, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Limits {
    pub fn from_config(c: &Config) -> Limits {
        Limits {
            max_connections: c.max_connections.max(1),
            header_timeout: c.header_timeout,
            idle_timeout: c.idle_timeout,
        }
    }
}

/// How often a full server asks idle connections again to make room.
const PRESSURE_REPEAT: Duration = Duration::from_millis(100);
/// How long a connection must have been idle (since its last write), or
/// reading one request's headers, before a full server closes it.
const SHED_AFTER: Duration = Duration::from_millis(250);
/// At most one "server full" warning per this long.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Wraps an acceptor: one place (a semaphore permit) per open connection.
pub struct GuardedAcceptor<A> {
    inner: A,
    limits: Limits,
    places: Arc<Semaphore>,
    pressure: Arc<Notify>,
    last_warned: Option<std::time::Instant>,
}

impl<A> GuardedAcceptor<A> {
    pub fn new(inner: A, limits: Limits) -> GuardedAcceptor<A> {
        GuardedAcceptor {
            inner,
            limits,
            places: Arc::new(Semaphore::new(limits.max_connections)),
            pressure: Arc::new(Notify::new()),
            last_warned: None,
        }
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.limits.max_connections - self.places.available_permits()
    }

    fn warn_full(&mut self) {
        if self.last_warned.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
            self.last_warned = Some(std::time::Instant::now());
            tracing::warn!(
                max = self.limits.max_connections,
                "connection limit reached (MAMIS_MAX_CONNECTIONS): closing idle connections"
            );
        }
    }

    /// A place for a new connection: at once, or after idle ones are closed.
    async fn place(&mut self) -> io::Result<OwnedSemaphorePermit> {
        if let Ok(p) = self.places.clone().try_acquire_owned() {
            return Ok(p);
        }
        self.warn_full();
        loop {
            self.pressure.notify_waiters();
            match tokio::time::timeout(PRESSURE_REPEAT, self.places.clone().acquire_owned()).await {
                Ok(Ok(p)) => return Ok(p),
                Ok(Err(_)) => return Err(io::Error::other("connection places closed")),
                Err(_) => {}
            }
        }
    }
}

impl<A: Acceptor> Acceptor for GuardedAcceptor<A> {
    type Io = Guarded<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = match self.inner.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors, say: poem's loop would retry at once.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(PRESSURE_REPEAT).await;
                return Err(e);
            }
        };
        let permit = self.place().await?;
        let io = Guarded::new(io, permit, self.limits, self.pressure.clone());
        Ok((io, local, remote, scheme))
    }
}

/// Where a connection is in its request cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Connected or answered, no byte of a next request yet.
    Idle,
    /// Reading a request's headers.
    Headers,
    /// Headers complete: body, handler, response.
    Busy,
}

/// An accepted connection holding its place, with its deadlines.
pub struct Guarded<T> {
    inner: T,
    _place: OwnedSemaphorePermit,
    limits: Limits,
    phase: Phase,
    /// Line ends seen in a row while in `Headers` (`\r` ignored).
    newlines: u8,
    /// When the phase began: accepted or last written (`Idle`), first byte
    /// of the headers (`Headers`).
    since: Instant,
    deadline: Pin<Box<Sleep>>,
    pressure: Arc<Notify>,
    shed: Pin<Box<OwnedNotified>>,
}

impl<T> Guarded<T> {
    fn new(
        inner: T,
        place: OwnedSemaphorePermit,
        limits: Limits,
        pressure: Arc<Notify>,
    ) -> Guarded<T> {
        let shed = Box::pin(pressure.clone().notified_owned());
        Guarded {
            inner,
            _place: place,
            limits,
            phase: Phase::Idle,
            newlines: 0,
            since: Instant::now(),
            // A new connection must send its first request's headers in time.
            deadline: Box::pin(tokio::time::sleep(limits.header_timeout)),
            pressure,
            shed,
        }
    }

    fn on_read(&mut self, bytes: &[u8]) {
        if self.phase == Phase::Idle {
            self.phase = Phase::Headers;
            self.newlines = 0;
            self.since = Instant::now();
            self.deadline
                .as_mut()
                .reset(self.since + self.limits.header_timeout);
        }
        if self.phase == Phase::Headers {
            for &b in bytes {
                match b {
                    b'\n' => {
                        self.newlines += 1;
                        if self.newlines == 2 {
                            self.phase = Phase::Busy;
                            // The body must follow within the idle timeout.
                            self.deadline
                                .as_mut()
                                .reset(Instant::now() + self.limits.idle_timeout);
                            break;
                        }
                    }
                    b'\r' => {}
                    _ => self.newlines = 0,
                }
            }
        }
    }

    fn on_write(&mut self) {
        self.phase = Phase::Idle;
        self.since = Instant::now();
        self.deadline
            .as_mut()
            .reset(self.since + self.limits.idle_timeout);
    }

    /// With the socket not ready: fails when the deadline has passed, or
    /// when a full server asks idle connections to close.
    fn check(&mut self, cx: &mut Context<'_>, reading: bool) -> Poll<io::Error> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            tracing::debug!(phase = ?self.phase, "connection closed: timed out");
            return Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection timed out",
            ));
        }
        if reading && self.shed.as_mut().poll(cx).is_ready() {
            if self.phase != Phase::Busy && self.since.elapsed() >= SHED_AFTER {
                tracing::debug!(phase = ?self.phase, "connection closed: server full");
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "closed to make room",
                ));
            }
            self.shed = Box::pin(self.pressure.clone().notified_owned());
            let _ = self.shed.as_mut().poll(cx);
        }
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.on_read(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.check(cx, true).map(Err),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.on_write();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.check(cx, false).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.on_write();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.check(cx, false).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.check(cx, false).map(Err),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Raises this process's soft limit of open files to its hard limit (the
/// default soft limit, 1,024, is too few for a server); returns the new
/// soft limit.
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::increase_nofile_limit(u64::MAX).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded() -> Guarded<()> {
        let places = Arc::new(Semaphore::new(1));
        let place = places.try_acquire_owned().unwrap();
        let limits = Limits {
            max_connections: 1,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        };
        Guarded::new((), place, limits, Arc::new(Notify::new()))
    }

    #[tokio::test]
    async fn phases_follow_the_bytes() {
        let mut g = guarded();
        assert_eq!(g.phase, Phase::Idle);
        g.on_read(b"GET / HTTP/1.1\r\nHost: x\r");
        assert_eq!(g.phase, Phase::Headers);
        g.on_read(b"\n\r");
        assert_eq!(g.phase, Phase::Headers);
        g.on_read(b"\nbody");
        assert_eq!(g.phase, Phase::Busy);
        g.on_write();
        assert_eq!(g.phase, Phase::Idle);
        g.on_read(b"GET / HTTP/1.1\nHost: x\n\n");
        assert_eq!(g.phase, Phase::Busy);
    }
}
