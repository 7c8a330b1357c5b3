//! HTTPS served by MAMIS itself: one acceptor for both ways of getting a
//! certificate. From files (`MAMIS_TLS_CERT` / `MAMIS_TLS_KEY`): the chain
//! and key are read at start (a bad pair stops the start with its cause),
//! then checked every few seconds and read again when either file changes;
//! a pair that does not read then is logged and the one in use kept. By
//! ACME (`MAMIS_TLS_DOMAIN`, `acme`): the certificate may not exist yet
//! (handshakes fail until it does), and a ClientHello that offers only the
//! ALPN protocol `acme-tls/1` for a domain with a pending TLS-ALPN-01
//! challenge gets that challenge's certificate (RFC 8737); such a
//! connection is closed after its handshake and never reaches the app.
//! Each connection's handshake runs in its own task, on its first read or
//! write, so a slow client cannot hold up the accept loop; the connection
//! limits of `conn` apply to the decrypted stream.

use std::{
    collections::HashMap,
    io,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{Arc, RwLock},
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

use anyhow::Context as _;
use poem::{
    http::uri::Scheme,
    listener::{Acceptor, TcpAcceptor},
    web::{LocalAddr, RemoteAddr},
};
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{Accept, TlsAcceptor, server::TlsStream};

/// The ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// How often the files are checked for a change.
pub const RELOAD_CHECK: Duration = Duration::from_secs(5);

/// A chain and its key as a signing certificate (ring, the process's one
/// crypto provider), checked to belong together.
pub fn certified(
    chain: Vec<CertificateDer<'static>>,
    key: &PrivateKeyDer<'_>,
) -> anyhow::Result<Arc<CertifiedKey>> {
    if chain.is_empty() {
        anyhow::bail!("no certificate");
    }
    let signing = rustls::crypto::ring::sign::any_supported_type(key)
        .context("a key type rustls cannot use")?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .context("the key is not the certificate's")?;
    Ok(Arc::new(certified))
}

/// Reads the chain and key files into a signing certificate.
fn load(cert: &Path, key: &Path) -> anyhow::Result<Arc<CertifiedKey>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("MAMIS_TLS_CERT: cannot read {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("MAMIS_TLS_CERT: not PEM certificates: {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("MAMIS_TLS_CERT: no certificate in {}", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("MAMIS_TLS_KEY: no private key in {}", key.display()))?;
    certified(chain, &key).context("MAMIS_TLS_CERT / MAMIS_TLS_KEY")
}

/// When each file was last changed and its length.
type Stamp = [Option<(SystemTime, u64)>; 2];

fn stamp(cert: &Path, key: &Path) -> Stamp {
    [cert, key].map(|p| {
        std::fs::metadata(p)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    })
}

/// The certificates the server presents: the site's (replaced when the
/// files change or ACME renews it; none before ACME's first), and the
/// TLS-ALPN-01 challenge certificate of each domain being validated.
#[derive(Debug, Default)]
pub struct Certs {
    current: RwLock<Option<Arc<CertifiedKey>>>,
    challenges: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl Certs {
    pub fn new(current: Option<Arc<CertifiedKey>>) -> Certs {
        Certs {
            current: RwLock::new(current),
            challenges: RwLock::default(),
        }
    }

    /// Serves `key` from the next handshake on.
    pub fn set_current(&self, key: Arc<CertifiedKey>) -> anyhow::Result<()> {
        let mut slot = self
            .current
            .write()
            .map_err(|_| anyhow::anyhow!("TLS certificate lock poisoned"))?;
        *slot = Some(key);
        Ok(())
    }

    /// Answers TLS-ALPN-01 validation for `domain` with `key`.
    pub fn set_challenge(&self, domain: &str, key: Arc<CertifiedKey>) -> anyhow::Result<()> {
        self.challenges
            .write()
            .map_err(|_| anyhow::anyhow!("TLS challenge lock poisoned"))?
            .insert(domain.to_ascii_lowercase(), key);
        Ok(())
    }

    /// Stops answering validation for `domain`.
    pub fn clear_challenge(&self, domain: &str) {
        if let Ok(mut map) = self.challenges.write() {
            map.remove(&domain.to_ascii_lowercase());
        }
    }
}

/// True when the client offers `acme-tls/1` and nothing else, as a
/// validation server does (RFC 8737 §3).
fn validation_hello(hello: &ClientHello<'_>) -> bool {
    hello
        .alpn()
        .is_some_and(|offered| offered.collect::<Vec<_>>() == [ACME_TLS_ALPN])
}

impl ResolvesServerCert for Certs {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if validation_hello(&hello) {
            let name = hello.server_name()?.to_ascii_lowercase();
            return self.challenges.read().ok()?.get(&name).cloned();
        }
        self.current.read().ok()?.clone()
    }
}

/// Aborts a background task (file watch, ACME renewal) when the acceptor
/// that needs it is dropped, i.e. when the server stops.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Accepts TCP connections and speaks TLS on them with the certificates of
/// [`Certs`].
pub struct HttpsAcceptor {
    tcp: TcpAcceptor,
    tls: TlsAcceptor,
    _task: AbortOnDrop,
}

impl HttpsAcceptor {
    /// TLS over `tcp` with `certs`; `task` (what keeps `certs` current) is
    /// aborted when the acceptor is dropped.
    pub fn new(
        tcp: TcpAcceptor,
        certs: Arc<Certs>,
        task: tokio::task::AbortHandle,
    ) -> anyhow::Result<HttpsAcceptor> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(certs);
        // http/1.1 first: rustls picks in the server's order, so only a
        // client offering nothing else gets acme-tls/1.
        config.alpn_protocols = vec![b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
        Ok(HttpsAcceptor {
            tcp,
            tls: TlsAcceptor::from(Arc::new(config)),
            _task: AbortOnDrop(task),
        })
    }

    /// TLS with the certificate of the files: loads them (an error names the
    /// variable at fault) and starts watching them.
    pub fn from_files(
        tcp: TcpAcceptor,
        cert: PathBuf,
        key: PathBuf,
        check_every: Duration,
    ) -> anyhow::Result<HttpsAcceptor> {
        let first = load(&cert, &key)?;
        let certs = Arc::new(Certs::new(Some(first)));
        let task = tokio::spawn(watch(certs.clone(), cert, key, check_every));
        HttpsAcceptor::new(tcp, certs, task.abort_handle())
    }
}

/// Reads the files again whenever their stamp changes.
async fn watch(current: Arc<Certs>, cert: PathBuf, key: PathBuf, every: Duration) {
    let mut seen = stamp(&cert, &key);
    loop {
        tokio::time::sleep(every).await;
        let now = stamp(&cert, &key);
        if now == seen {
            continue;
        }
        seen = now;
        match load(&cert, &key) {
            Ok(new) => match current.set_current(new) {
                Ok(()) => tracing::info!(cert = %cert.display(), "TLS certificate reloaded"),
                Err(e) => tracing::error!(error = ?e, "TLS certificate not reloaded"),
            },
            Err(e) => {
                tracing::warn!(error = ?e, "TLS certificate files changed but do not read; the previous certificate stays in use")
            }
        }
    }
}

impl Acceptor for HttpsAcceptor {
    type Io = LazyTls;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.tcp.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(LazyTls, LocalAddr, RemoteAddr, Scheme)> {
        let (stream, local, remote, _) = self.tcp.accept().await?;
        let io = LazyTls::Handshake(Box::new(self.tls.accept(stream)));
        Ok((io, local, remote, Scheme::HTTPS))
    }
}

/// A TLS connection whose handshake is driven by its first read or write.
pub enum LazyTls {
    Handshake(Box<Accept<TcpStream>>),
    Ready(Box<TlsStream<TcpStream>>),
    /// A TLS-ALPN-01 validation: its handshake was all it was for; being
    /// closed (close_notify), then reads end and writes fail.
    Validation(Box<TlsStream<TcpStream>>),
    Closed,
    Failed,
}

impl LazyTls {
    /// Drives the handshake (and a validation connection's close);
    /// `Ready(Ok)` once the stream is `Ready` or `Closed`.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match self {
                LazyTls::Ready(_) | LazyTls::Closed => return Poll::Ready(Ok(())),
                LazyTls::Failed => {
                    return Poll::Ready(Err(io::Error::other("TLS handshake failed")));
                }
                LazyTls::Handshake(accept) => match Pin::new(accept.as_mut()).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(stream)) => {
                        let validation = stream.get_ref().1.alpn_protocol() == Some(ACME_TLS_ALPN);
                        *self = if validation {
                            LazyTls::Validation(Box::new(stream))
                        } else {
                            LazyTls::Ready(Box::new(stream))
                        };
                    }
                    Poll::Ready(Err(e)) => {
                        *self = LazyTls::Failed;
                        return Poll::Ready(Err(e));
                    }
                },
                LazyTls::Validation(stream) => match Pin::new(stream.as_mut()).poll_shutdown(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(result) => {
                        tracing::debug!(?result, "TLS-ALPN-01 validation connection closed");
                        *self = LazyTls::Closed;
                    }
                },
            }
        }
    }
}

use std::future::Future as _;

impl AsyncRead for LazyTls {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        match this {
            LazyTls::Ready(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            // End of stream: the HTTP server closes the connection.
            LazyTls::Closed => Poll::Ready(Ok(())),
            _ => Poll::Ready(Err(io::Error::other("TLS stream not ready"))),
        }
    }
}

impl AsyncWrite for LazyTls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        match this {
            LazyTls::Ready(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            _ => Poll::Ready(Err(io::Error::other("TLS stream not ready"))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LazyTls::Ready(s) => Pin::new(s.as_mut()).poll_flush(cx),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LazyTls::Ready(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            _ => Poll::Ready(Ok(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use poem::{Server, handler, listener::Listener};
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::TlsConnector;

    use super::*;

    fn self_signed(name: &str) -> Arc<CertifiedKey> {
        let c = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        let key = PrivateKeyDer::from_pem_slice(c.signing_key.serialize_pem().as_bytes()).unwrap();
        certified(vec![c.cert.der().clone()], &key).unwrap()
    }

    /// A TLS client offering `alpn` for `name` at `addr`.
    async fn connect(
        addr: std::net::SocketAddr,
        name: &str,
        alpn: &[u8],
    ) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let mut config = crate::healthcheck::client_config().map_err(io::Error::other)?;
        config.alpn_protocols = vec![alpn.to_vec()];
        let tcp = TcpStream::connect(addr).await?;
        TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from(name.to_owned()).unwrap(), tcp)
            .await
    }

    #[handler]
    fn app() -> &'static str {
        "the app"
    }

    #[tokio::test]
    async fn a_validation_handshake_gets_the_challenge_certificate_and_never_reaches_the_app() {
        let (site, challenge) = (self_signed("mamis.test"), self_signed("mamis.test"));
        let certs = Arc::new(Certs::new(Some(site.clone())));
        certs
            .set_challenge("MAMIS.test", challenge.clone())
            .unwrap();
        let tcp = poem::listener::TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = *tcp.local_addr()[0].as_socket_addr().unwrap();
        let idle = tokio::spawn(std::future::pending::<()>());
        let acceptor = HttpsAcceptor::new(tcp, certs.clone(), idle.abort_handle()).unwrap();
        let server = tokio::spawn(Server::new_with_acceptor(acceptor).run(app));

        // The validation server's hello: the challenge certificate, then the
        // connection ends before any request is answered.
        let mut v = connect(addr, "mamis.test", ACME_TLS_ALPN).await.unwrap();
        assert_eq!(v.get_ref().1.alpn_protocol(), Some(ACME_TLS_ALPN));
        let served = v.get_ref().1.peer_certificates().unwrap()[0].clone();
        assert_eq!(served, challenge.cert[0]);
        let _ = v
            .write_all(b"GET / HTTP/1.1\r\nhost: mamis.test\r\n\r\n")
            .await;
        let mut answer = Vec::new();
        let _ = v.read_to_end(&mut answer).await;
        assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));

        // A browser's hello: the site's certificate and the app.
        let mut b = connect(addr, "mamis.test", b"http/1.1").await.unwrap();
        assert_eq!(b.get_ref().1.peer_certificates().unwrap()[0], site.cert[0]);
        b.write_all(b"GET / HTTP/1.1\r\nhost: mamis.test\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let _ = b.read_to_end(&mut answer).await;
        assert!(String::from_utf8_lossy(&answer).ends_with("the app"));

        // No challenge pending for that name, or no longer: no handshake.
        assert!(connect(addr, "other.test", ACME_TLS_ALPN).await.is_err());
        certs.clear_challenge("mamis.test");
        assert!(connect(addr, "mamis.test", ACME_TLS_ALPN).await.is_err());

        // The task kept alive by the acceptor ends with it.
        server.abort();
        let _ = server.await;
        tokio::time::timeout(Duration::from_secs(5), idle)
            .await
            .expect("the acceptor's task was not aborted")
            .expect_err("aborted");
    }
}
