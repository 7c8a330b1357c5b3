//! HTTPS from certificate files (`MAMIS_TLS_CERT` / `MAMIS_TLS_KEY`): the
//! chain and key are read at start (a bad pair stops the start with its
//! cause), then checked every few seconds and read again when either file
//! changes; a pair that does not read then is logged and the one in use
//! kept. Each connection's handshake runs in its own task, on its first
//! read or write, so a slow client cannot hold up the accept loop; the
//! connection limits of `conn` apply to the decrypted stream.

use std::{
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

/// How often the files are checked for a change.
pub const RELOAD_CHECK: Duration = Duration::from_secs(5);

/// Reads the chain and key into a signing certificate (ring, the process's
/// one crypto provider).
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
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .context("MAMIS_TLS_KEY: a key type rustls cannot use")?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .context("MAMIS_TLS_CERT / MAMIS_TLS_KEY: the key is not the certificate's")?;
    Ok(Arc::new(certified))
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

/// The certificate in use, replaced when the files change.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.read().ok().map(|k| Arc::clone(&k))
    }
}

/// Accepts TCP connections and speaks TLS on them with the certificate of
/// the files.
pub struct FilesAcceptor {
    tcp: TcpAcceptor,
    tls: TlsAcceptor,
}

impl FilesAcceptor {
    /// Loads the files (an error names the variable at fault) and starts
    /// watching them.
    pub fn new(
        tcp: TcpAcceptor,
        cert: PathBuf,
        key: PathBuf,
        check_every: Duration,
    ) -> anyhow::Result<FilesAcceptor> {
        let first = load(&cert, &key)?;
        let current = Arc::new(Current(RwLock::new(first)));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        tokio::spawn(watch(current, cert, key, check_every));
        Ok(FilesAcceptor {
            tcp,
            tls: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

/// Reads the files again whenever their stamp changes.
async fn watch(current: Arc<Current>, cert: PathBuf, key: PathBuf, every: Duration) {
    let mut seen = stamp(&cert, &key);
    loop {
        tokio::time::sleep(every).await;
        let now = stamp(&cert, &key);
        if now == seen {
            continue;
        }
        seen = now;
        match load(&cert, &key) {
            Ok(new) => match current.0.write() {
                Ok(mut slot) => {
                    *slot = new;
                    tracing::info!(cert = %cert.display(), "TLS certificate reloaded");
                }
                Err(_) => tracing::error!("TLS certificate lock poisoned; not reloaded"),
            },
            Err(e) => {
                tracing::warn!(error = ?e, "TLS certificate files changed but do not read; the previous certificate stays in use")
            }
        }
    }
}

impl Acceptor for FilesAcceptor {
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
    Failed,
}

impl LazyTls {
    /// Drives the handshake; `Ready(Ok)` once the stream can be used.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match self {
                LazyTls::Ready(_) => return Poll::Ready(Ok(())),
                LazyTls::Failed => {
                    return Poll::Ready(Err(io::Error::other("TLS handshake failed")));
                }
                LazyTls::Handshake(accept) => match Pin::new(accept.as_mut()).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(stream)) => *self = LazyTls::Ready(Box::new(stream)),
                    Poll::Ready(Err(e)) => {
                        *self = LazyTls::Failed;
                        return Poll::Ready(Err(e));
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
