//! `mamis healthcheck`: asks a running server's `/healthz` on its address
//! (a server listening on all interfaces is asked on loopback), over TLS
//! when it serves HTTPS, and succeeds on a 200. For container health
//! checks, so that the image needs no curl.
//!
//! Over TLS the server's certificate is not checked: the question is
//! whether this machine's server answers, not who it is (its certificate
//! may be for a public name that does not resolve here, or not yet issued
//! while ACME runs — then the handshake fails, and so does the check).

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime},
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

/// Asks `addr` (as in MAMIS_ADDR) for `/healthz` within 5 seconds.
pub async fn run(addr: &str, tls: bool) -> anyhow::Result<()> {
    let target = addr
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    let check = async {
        let tcp = tokio::net::TcpStream::connect(&target).await?;
        if tls {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config()?));
            let name = ServerName::try_from("localhost")?;
            let stream = connector
                .connect(name, tcp)
                .await
                .context("TLS handshake")?;
            ask(stream).await
        } else {
            ask(tcp).await
        }
    };
    let answer = tokio::time::timeout(Duration::from_secs(5), check)
        .await
        .context("no answer within 5 s")??;
    if answer.starts_with(b"HTTP/1.1 200") {
        println!("ok");
        Ok(())
    } else {
        anyhow::bail!("unhealthy answer from {target}")
    }
}

async fn ask<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> anyhow::Result<Vec<u8>> {
    stream.write_all(REQUEST).await?;
    let mut buf = Vec::new();
    // A server closing TLS without close_notify still gave its answer.
    match stream.read_to_end(&mut buf).await {
        Ok(_) => Ok(buf),
        Err(_) if !buf.is_empty() => Ok(buf),
        Err(e) => Err(e.into()),
    }
}

/// A TLS client that takes any server certificate (signatures checked);
/// also the TLS tests' client, which look at which certificate they get.
pub(crate) fn client_config() -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
    )
}

/// Accepts the server's certificate whatever it is, but still checks the
/// handshake's signatures with it.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
