//! Accepting and serving sockets: the connection limit, its reserve, and the clocks that close idle
//! and slow connections.
//!
//! A gateway that keeps every socket for as long as the peer likes can be starved by peers that
//! connect and say nothing, or send their headers a byte at a time: file descriptors run out and
//! even `/gateway/health/live` stops answering, so the platform restarts a healthy machine. The
//! policy here:
//!
//! - Up to `max_connections` connections are served in full, with keep-alive.
//! - Beyond that, up to `reserved_connections` more are admitted to a reserve. Each is answered
//!   once, on a reduced router (`/gateway/health/live` still answers 200 so liveness probes see a
//!   live process; every other path gets 503 `connection_limit` with `Retry-After`), then closed.
//! - Beyond both, a new connection is closed at once. Open connections are never evicted.
//!
//! Clocks, split as Go's `net/http` splits them: the idle clock runs from accept, and from the end
//! of each response, until the first byte of the next request; the header clock runs from that
//! first byte until the request head is complete. A handler is bounded by the request timeout
//! (middleware in `server`). A connection whose clock runs out is closed without an answer.
//! hyper's own `header_read_timeout` is not used: it restarts whenever hyper waits for a head, so
//! it cannot tell an idle keep-alive connection from a slow one.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use hyper_util::service::{TowerToHyperService, TowerToHyperServiceFuture};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::metrics::{Admission, Clock, Metrics};
use crate::server::Stopped;

/// How long a connection may wait in each phase.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clocks {
    pub idle: Duration,
    pub header: Duration,
}

/// Everything the accept loop needs.
pub(crate) struct Plan {
    pub full: Router,
    pub reserve: Router,
    pub max_connections: usize,
    pub reserved_connections: usize,
    pub clocks: Clocks,
    pub drain: Duration,
    pub metrics: Arc<Metrics>,
}

/// Accepts until `shutdown` resolves, then lets open connections finish for at most `plan.drain`.
pub(crate) async fn serve(
    listener: TcpListener,
    plan: Plan,
    shutdown: impl Future<Output = ()>,
) -> Stopped {
    let permits = |n: usize| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)));
    let full_slots = permits(plan.max_connections.max(1));
    let reserve_slots = permits(plan.reserved_connections);
    let reserve_clocks = Clocks {
        idle: plan.clocks.idle.min(plan.clocks.header),
        header: plan.clocks.header,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while tasks.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors, or the peer left before accept: retrying at once would spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let (permit, router, keep_alive, clocks, admission) =
            match full_slots.clone().try_acquire_owned() {
                Ok(permit) => (permit, &plan.full, true, plan.clocks, Admission::Full),
                Err(_) => match reserve_slots.clone().try_acquire_owned() {
                    Ok(permit) => (
                        permit,
                        &plan.reserve,
                        false,
                        reserve_clocks,
                        Admission::Reserve,
                    ),
                    Err(_) => {
                        plan.metrics.admit(Admission::Refused);
                        drop(stream);
                        continue;
                    }
                },
            };
        let open = plan.metrics.admit(admission);
        let task = drive(
            stream,
            router.clone(),
            keep_alive,
            clocks,
            stop_rx.clone(),
            plan.metrics.clone(),
        );
        tasks.spawn(async move {
            task.await;
            drop((permit, open));
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(plan.drain, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    match drained {
        Ok(()) => Stopped::Drained,
        Err(_) => {
            tasks.abort_all();
            Stopped::DrainTimedOut
        }
    }
}

/// Serves one connection until it ends, a clock runs out, or shutdown lets it finish.
async fn drive(
    stream: TcpStream,
    router: Router,
    keep_alive: bool,
    clocks: Clocks,
    mut stop: watch::Receiver<bool>,
    metrics: Arc<Metrics>,
) {
    // Answers are small; waiting for Nagle's timer would only add latency.
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service = Tracked {
        inner: TowerToHyperService::new(router),
        activity: activity.clone(),
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(keep_alive)
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = *stop.borrow_and_update();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(next_look(&activity, clocks)) => {
                if let Some((clock, at)) = activity.deadline(clocks) {
                    if Instant::now() >= at {
                        metrics.timed_out(clock);
                        return;
                    }
                }
            }
        }
    }
}

/// When the watchdog looks at the connection next.
///
/// The watchdog is not woken when a phase changes (that would cost a timer registration per
/// request); instead it never sleeps longer than the header clock unless a head is being read.
/// A head that starts while it sleeps has a deadline at least one header clock after that start,
/// so it is still seen in time, and the timer is touched about once per header clock per
/// connection rather than twice per request.
fn next_look(activity: &Activity, clocks: Clocks) -> Instant {
    let now = Instant::now();
    // The floor keeps a zero clock from turning the watchdog into a busy loop.
    let cadence = clocks
        .header
        .min(clocks.idle)
        .max(Duration::from_millis(10));
    let soon = now.checked_add(cadence);
    match activity.deadline(clocks) {
        Some((Clock::Header, at)) => Some(at),
        Some((Clock::Idle, at)) => soon.map(|soon| soon.min(at)),
        None => soon,
    }
    .unwrap_or_else(far_future)
}

fn far_future() -> Instant {
    // About 30 years: never reached, and far from Instant's overflow.
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

const IDLE: u8 = 0;
const HEAD: u8 = 1;
const BUSY: u8 = 2;

/// Which phase a connection is in and since when, shared by its socket, its service and its
/// watchdog.
struct Activity {
    base: Instant,
    phase: AtomicU8,
    since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            base: Instant::now(),
            phase: AtomicU8::new(IDLE),
            since_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Bytes arrived: on an idle connection they start a request head, and its clock.
    fn read(&self, n: usize) {
        if n > 0 && self.phase.load(Ordering::Acquire) == IDLE {
            self.since_ms.store(self.now_ms(), Ordering::Release);
            let _ = self
                .phase
                .compare_exchange(IDLE, HEAD, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// Bytes left: a response still being written keeps the connection from counting as idle.
    fn wrote(&self, n: usize) {
        if n > 0 && self.phase.load(Ordering::Acquire) == IDLE {
            self.since_ms.store(self.now_ms(), Ordering::Release);
        }
    }

    fn request_started(&self) {
        self.phase.store(BUSY, Ordering::Release);
    }

    fn request_finished(&self) {
        self.since_ms.store(self.now_ms(), Ordering::Release);
        self.phase.store(IDLE, Ordering::Release);
    }

    /// The running clock and when it runs out; `None` while a request is being handled.
    fn deadline(&self, clocks: Clocks) -> Option<(Clock, Instant)> {
        let (clock, limit) = match self.phase.load(Ordering::Acquire) {
            IDLE => (Clock::Idle, clocks.idle),
            HEAD => (Clock::Header, clocks.header),
            _ => return None,
        };
        let since = Duration::from_millis(self.since_ms.load(Ordering::Acquire));
        let at = self.base.checked_add(since)?.checked_add(limit)?;
        Some((clock, at))
    }
}

/// The socket, reporting traffic to the connection's [`Activity`].
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.activity
                .read(buf.filled().len().saturating_sub(before));
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.activity.wrote(n);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            this.activity.wrote(n);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router, marking when each request is being handled.
#[derive(Clone)]
struct Tracked {
    inner: TowerToHyperService<Router>,
    activity: Arc<Activity>,
}

impl Service<Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer<TowerToHyperServiceFuture<Router, Request<Incoming>>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.activity.request_started();
        Answer {
            inner: self.inner.call(request),
            activity: self.activity.clone(),
        }
    }
}

/// The router's answer; the request counts as handled once it is ready.
struct Answer<F> {
    inner: F,
    activity: Arc<Activity>,
}

impl<F: Future + Unpin> Future for Answer<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll(cx);
        if polled.is_ready() {
            this.activity.request_finished();
        }
        polled
    }
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;
