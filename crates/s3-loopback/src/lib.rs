//! A real S3 server on loopback for tests and benchmarks: [`s3s-fs`](https://docs.rs/s3s-fs) (the S3 protocol over
//! a directory) served by hyper on `127.0.0.1` at a port the system picks, with SigV4 authentication, and
//! `object_store`'s S3 client configured to talk to it.
//!
//! The server runs on its own Tokio runtime in a background thread. It stops when the [`S3Server`] is dropped, or
//! by itself once its lifetime has passed, so a test that leaks it cannot leave a server behind. It listens on the
//! loopback address only and never connects anywhere.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use object_store::{ObjectStoreExt, PutPayload, path::Path};
//!
//! let dir = std::env::temp_dir().join(format!("s3-loopback-doc-{}", std::process::id()));
//! let server = s3_loopback::S3Server::start(&dir, Duration::from_secs(60))?;
//! server.create_bucket("blocks")?;
//! let s3 = server.client("blocks")?;
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(async {
//!     s3.put(&Path::from("greeting"), PutPayload::from_static(b"hello")).await?;
//!     let bytes = s3.get(&Path::from("greeting")).await?.bytes().await?;
//!     assert_eq!(&bytes[..], b"hello");
//!     Ok::<(), object_store::Error>(())
//! })?;
//! drop(server);
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpClient, HttpConnector};
use object_store::{BackoffConfig, ClientOptions, RetryConfig};
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The access key the server accepts (the server is on loopback and holds test data only).
pub const ACCESS_KEY: &str = "hamt-test-access";
/// The secret key the server accepts.
pub const SECRET_KEY: &str = "hamt-test-secret";
/// The region the client signs for (s3s accepts any).
pub const REGION: &str = "us-east-1";

/// The largest request body the server reads (the tests' blocks are far smaller).
const MAX_BODY: usize = 64 << 20;

/// How long in-flight requests may take to finish once the server is asked to stop.
const GRACE: Duration = Duration::from_secs(5);

/// A running s3s-fs server on `127.0.0.1`, serving the buckets under its root directory.
///
/// Dropping it stops the server and waits for its thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let dir = std::env::temp_dir().join(format!("s3-loopback-server-doc-{}", std::process::id()));
/// let server = s3_loopback::S3Server::start(&dir, Duration::from_secs(60))?;
/// assert!(server.address().ip().is_loopback());
/// assert!(server.endpoint().starts_with("http://127.0.0.1:"));
/// drop(server);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct S3Server {
    address: SocketAddr,
    root: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl S3Server {
    /// Starts a server over directory `root` (created if missing; each bucket is a subdirectory) on `127.0.0.1` at a
    /// port the system picks. The server stops when the value is dropped, or by itself after `lifetime`.
    ///
    /// # Errors
    ///
    /// The I/O error if the directory cannot be created, the runtime cannot start or the port cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let dir = std::env::temp_dir().join(format!("s3-loopback-start-doc-{}", std::process::id()));
    /// let server = s3_loopback::S3Server::start(&dir, Duration::from_secs(60))?;
    /// assert_ne!(server.address().port(), 0);
    /// # drop(server);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(root: impl AsRef<Path>, lifetime: Duration) -> io::Result<S3Server> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root)?;
        let file_system = s3s_fs::FileSystem::new(&root).map_err(|error| io::Error::other(format!("{error:?}")))?;
        let mut service = S3ServiceBuilder::new(file_system);
        service.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = service.build();

        // Two workers: the server competes with the client's runtime for the same few cores.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3-loopback")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)))?;
        let address = listener.local_addr()?;
        let (stop, mut stopped) = oneshot::channel::<()>();

        let thread = std::thread::Builder::new().name("s3-loopback".to_owned()).spawn(move || {
            runtime.block_on(async move {
                let connections = ConnectionBuilder::new(TokioExecutor::new());
                let graceful = GracefulShutdown::new();
                let deadline = tokio::time::sleep(lifetime);
                tokio::pin!(deadline);
                loop {
                    let socket = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((socket, _)) => socket,
                            // A failed accept (for instance too many open files) affects one connection; the
                            // client sees it refused and reports it, so the server goes on, after a pause that
                            // keeps a lasting failure from spinning.
                            Err(_) => {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            }
                        },
                        _ = &mut stopped => break,
                        () = &mut deadline => break,
                    };
                    // Without it, a response written in two parts waits for the client's delayed acknowledgement
                    // (40 ms on Linux) on every request.
                    let _ = socket.set_nodelay(true);
                    let service = service.clone();
                    // s3s answers some requests (a create-only put of an existing object) before reading their
                    // body, and hyper then closes the connection under a client that is still sending it, which
                    // the client sees as a broken pipe, on that request or on its next one over the pooled
                    // connection. Reading every body first keeps connections open, as S3 itself does.
                    let whole_bodies = service_fn(move |request| read_whole_body(service.clone(), request));
                    let connection = connections.serve_connection(TokioIo::new(socket), whole_bodies);
                    let connection = graceful.watch(connection.into_owned());
                    tokio::spawn(async move {
                        // A connection's error (the client hung up) concerns that client only.
                        let _ = connection.await;
                    });
                }
                drop(listener);
                let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
            });
            runtime.shutdown_background();
        })?;
        Ok(S3Server { address, root, stop: Some(stop), thread: Some(thread) })
    }

    /// The address the server listens on (always on `127.0.0.1`).
    ///
    /// # Examples
    ///
    /// See [`S3Server`].
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The server's URL, `http://127.0.0.1:PORT`.
    ///
    /// # Examples
    ///
    /// See [`S3Server`].
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The directory the server stores its buckets in.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let dir = std::env::temp_dir().join(format!("s3-loopback-root-doc-{}", std::process::id()));
    /// let server = s3_loopback::S3Server::start(&dir, Duration::from_secs(60))?;
    /// assert_eq!(server.root(), dir);
    /// # drop(server);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates bucket `name` (a directory under the root); an existing bucket is kept as it is.
    ///
    /// # Errors
    ///
    /// The I/O error if the directory cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let dir = std::env::temp_dir().join(format!("s3-loopback-bucket-doc-{}", std::process::id()));
    /// let server = s3_loopback::S3Server::start(&dir, Duration::from_secs(60))?;
    /// server.create_bucket("blocks")?;
    /// assert!(dir.join("blocks").is_dir());
    /// # drop(server);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create_bucket(&self, name: &str) -> io::Result<()> {
        std::fs::create_dir_all(self.root.join(name))
    }

    /// `object_store`'s S3 client for bucket `name` on this server: path-style requests over plain HTTP, signed
    /// with [`ACCESS_KEY`] and [`SECRET_KEY`], conditional puts by `If-None-Match` (which s3s-fs honours). A failed
    /// request is retried twice within five seconds at most (rather than the default ten times within three
    /// minutes), so that tests of a server that is gone fail fast.
    ///
    /// The client ignores the proxies that `HTTP_PROXY` and its kin name, which would otherwise carry the requests
    /// off the machine: it connects to the server directly.
    ///
    /// # Errors
    ///
    /// The builder's error if the configuration is refused.
    ///
    /// # Examples
    ///
    /// See the [crate documentation](crate).
    pub fn client(&self, bucket: &str) -> Result<AmazonS3, object_store::Error> {
        AmazonS3Builder::new()
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_bucket_name(bucket)
            .with_region(REGION)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_virtual_hosted_style_request(false)
            .with_http_connector(DirectConnector)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(5),
            })
            .build()
    }
}

/// Builds HTTP clients that connect directly, whatever proxies the environment names.
#[derive(Debug)]
struct DirectConnector;

impl HttpConnector for DirectConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let client = reqwest::Client::builder()
            .no_proxy()
            // A request to a server on this machine that takes longer has hung.
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| object_store::Error::Generic { store: "S3", source: Box::new(error) })?;
        Ok(HttpClient::new(client))
    }
}

/// Reads the body of `request` (up to [`MAX_BODY`] bytes), then hands the request to s3s.
async fn read_whole_body(
    service: S3Service,
    request: http::Request<Incoming>,
) -> Result<http::Response<s3s::Body>, s3s::HttpError> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_BODY).collect().await.map_err(s3s::HttpError::new)?.to_bytes();
    service.call(http::Request::from_parts(parts, s3s::Body::from(body))).await
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may have stopped by itself already, and then nobody listens.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread has been printed already; dropping must not panic again.
            let _ = thread.join();
        }
    }
}
