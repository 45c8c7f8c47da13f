//! Test support shared by the egress-policy crates: a loopback HTTP server that
//! counts accepted connections and requests, log capture, and a static resolver.
//! "Must not connect" is proven by the server's accepted-connection count.

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is the test failing

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What a [`CountingServer`] answers.
pub type Handler = Arc<dyn Fn(&Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync>;

/// An HTTP/1 server on 127.0.0.1 that counts accepted TCP connections and requests.
pub struct CountingServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingServer {
    /// Answers every request with 200 and the body `ok from <port>`.
    pub async fn ok() -> CountingServer {
        CountingServer::start_with(|port| {
            Arc::new(move |_req: &Request<Incoming>| Response::new(Full::new(Bytes::from(format!("ok from {port}")))))
        })
        .await
    }

    /// Answers every request with a redirect to `location`.
    pub async fn redirect(status: u16, location: String) -> CountingServer {
        CountingServer::start_with(move |_| {
            let location = location.clone();
            Arc::new(move |_req: &Request<Incoming>| {
                Response::builder()
                    .status(StatusCode::from_u16(status).unwrap())
                    .header("location", location.as_str())
                    .body(Full::new(Bytes::new()))
                    .unwrap()
            })
        })
        .await
    }

    /// Answers 200 `ok from <addr>` on a given loopback address (e.g. `127.0.0.2:PORT`).
    pub async fn ok_on(addr: SocketAddr) -> CountingServer {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap(); // the port, when asked for port 0
        CountingServer::serve(listener, |_| {
            Arc::new(move |_req: &Request<Incoming>| Response::new(Full::new(Bytes::from(format!("ok from {addr}")))))
        })
    }

    /// Starts a server whose handler is built from its port.
    pub async fn start_with(make: impl FnOnce(u16) -> Handler) -> CountingServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        CountingServer::serve(listener, make)
    }

    fn serve(listener: TcpListener, make: impl FnOnce(u16) -> Handler) -> CountingServer {
        let addr = listener.local_addr().unwrap();
        let handler = make(addr.port());
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (c, r) = (connections.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                c.fetch_add(1, Ordering::SeqCst);
                let handler = handler.clone();
                let r = r.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        r.fetch_add(1, Ordering::SeqCst);
                        let resp = handler(&req);
                        async move { Ok::<_, Infallible>(resp) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        CountingServer {
            addr,
            connections,
            requests,
            task,
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port())
    }
    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    /// HTTP requests served so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Captured `tracing` output (fmt format, no ANSI), one string per line.
///
/// One subscriber for the whole test process, installed as the global default
/// (thread-local subscribers race with tracing's callsite cache when tests run in
/// parallel). Tests pick their own lines with [`LogCapture::lines_with`], keyed by
/// something unique to them, such as their server's port.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// The process-wide capture, recording `egress_policy` events at DEBUG and above.
    pub fn global() -> LogCapture {
        static GLOBAL: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let capture = LogCapture::default();
                let subscriber = tracing_subscriber::fmt()
                    .with_env_filter("egress_policy=debug")
                    .with_writer(capture.clone())
                    .with_ansi(false)
                    .finish();
                tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in tests");
                capture
            })
            .clone()
    }
    /// Every line captured so far.
    pub fn lines(&self) -> Vec<String> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_string).collect()
    }
    /// The lines containing `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.lines().into_iter().filter(|l| l.contains(needle)).collect()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

/// A hyper-util resolver answering from a fixed table (no DNS), counting lookups.
#[derive(Clone, Default)]
pub struct StaticResolver {
    table: Arc<HashMap<String, Vec<IpAddr>>>,
    lookups: Arc<AtomicUsize>,
}

impl StaticResolver {
    /// `entries`: name → addresses.
    pub fn new(entries: &[(&str, &[&str])]) -> StaticResolver {
        let table = entries
            .iter()
            .map(|(name, addrs)| (name.to_string(), addrs.iter().map(|a| a.parse().unwrap()).collect()))
            .collect();
        StaticResolver {
            table: Arc::new(table),
            lookups: Arc::default(),
        }
    }
    /// Lookups answered so far.
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

impl tower_service::Service<Name> for StaticResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let found = self.table.get(name.as_str()).cloned();
        Box::pin(async move {
            match found {
                Some(addrs) => Ok(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect::<Vec<_>>().into_iter()),
                None => Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("no such name: {name}"))),
            }
        })
    }
}
