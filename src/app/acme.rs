//! A certificate for `MAMIS_TLS_DOMAIN` from an ACME CA (RFC 8555; Let's
//! Encrypt by default), with instant-acme as the client and TLS-ALPN-01
//! (RFC 8737) on `MAMIS_ADDR` as the challenge, so no other port is needed.
//!
//! Kept in `<data dir>/acme` (folder 0700; files 0600, each written to a
//! temporary file then renamed): `account.json` (the ACME account's key and
//! URL, with the directory it belongs to, reused on restart), `key.pem` and
//! `cert.pem` (the certificate's key and chain). At start a stored
//! certificate that reads, matches its key and names the domain is served
//! at once; anything else is logged and replaced by a new order.
//!
//! The renewal task, for as long as the server listens: no certificate, or
//! one that expires within 30 days → order one: for each pending
//! authorization the challenge certificate is served to `acme-tls/1`
//! handshakes (`tls::Certs`) until the order is ready or invalid; the order
//! is finalised with a new key's CSR and polled while the CA answers
//! "processing" → files written, certificate served from the next handshake
//! → checked again every 12 h. A failed attempt is logged with its cause and
//! retried after 1 min, doubling up to 1 h. The server listens from the
//! start: until the first certificate, handshakes fail.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::{Context as _, bail, ensure};
use instant_acme::{
    Account, AccountBuilder, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier,
    NewAccount, NewOrder, Order, OrderStatus, RetryPolicy,
};
use poem::listener::TcpAcceptor;
use rcgen::{CertificateParams, CustomExtension, DistinguishedName, KeyPair};
use rustls::{
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, pem::PemObject},
    sign::CertifiedKey,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::tls::{Certs, HttpsAcceptor, certified};

/// A certificate closer than this to its end is renewed.
pub const RENEW_BEFORE: time::Duration = time::Duration::days(30);
/// How often a valid certificate's expiry is looked at again.
const CHECK_EVERY: Duration = Duration::from_secs(12 * 3600);
/// The wait after a first failed attempt, doubled after each next one…
const RETRY_FIRST: Duration = Duration::from_secs(60);
/// …up to this.
const RETRY_MAX: Duration = Duration::from_secs(3600);
/// How long an order may stay pending (validation) or processing
/// (issuance) before the attempt counts as failed.
const ORDER_WAIT: Duration = Duration::from_secs(120);

const ACCOUNT_FILE: &str = "account.json";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// What the renewal task needs (from `config::Tls::Acme`).
pub struct Settings {
    pub domain: String,
    pub directory: String,
    /// `mailto:…`
    pub contact: Option<String>,
    /// The CA of the ACME server's HTTPS certificate, instead of the
    /// system's roots.
    pub ca_file: Option<PathBuf>,
    /// `<data dir>/acme`.
    pub dir: PathBuf,
}

/// A certificate as kept on disk, read and checked.
struct Stored {
    key: Arc<CertifiedKey>,
    not_after: OffsetDateTime,
}

/// TLS on `tcp` with the stored certificate (if any), and the task that
/// obtains and renews it (stopped when the acceptor is dropped).
pub fn acceptor(tcp: TcpAcceptor, settings: Settings) -> anyhow::Result<HttpsAcceptor> {
    crate::store::create_private_dir(&settings.dir).context("MAMIS_DATA_DIR: the ACME folder")?;
    let stored = read_stored(&settings.dir, &settings.domain).unwrap_or_else(|e| {
        tracing::warn!(
            error = %format!("{e:#}"),
            "ACME: the stored certificate is not usable; a new one will be ordered"
        );
        None
    });
    let not_after = stored.as_ref().map(|s| s.not_after);
    let certs = Arc::new(Certs::new(stored.map(|s| s.key)));
    let task = tokio::spawn(maintain(certs.clone(), settings, not_after));
    HttpsAcceptor::new(tcp, certs, task.abort_handle())
}

/// Obtains the certificate when there is none or it is due, for ever.
async fn maintain(certs: Arc<Certs>, s: Settings, mut not_after: Option<OffsetDateTime>) {
    let mut account = None;
    let mut retry = RETRY_FIRST;
    loop {
        if let Some(end) = not_after
            && end - OffsetDateTime::now_utc() > RENEW_BEFORE
        {
            tracing::info!(domain = %s.domain, valid_until = %end, "ACME: certificate valid; next check in 12 h");
            tokio::time::sleep(CHECK_EVERY).await;
            continue;
        }
        tracing::info!(
            domain = %s.domain,
            directory = %s.directory,
            expires = ?not_after.map(|t| t.to_string()),
            "ACME: ordering a certificate"
        );
        match obtain(&certs, &s, &mut account).await {
            Ok(end) => {
                tracing::info!(domain = %s.domain, valid_until = %end, "ACME: certificate obtained and stored");
                not_after = Some(end);
                retry = RETRY_FIRST;
            }
            Err(e) => {
                tracing::error!(
                    domain = %s.domain,
                    directory = %s.directory,
                    error = %format!("{e:#}"),
                    retry_in_s = retry.as_secs(),
                    "ACME: no certificate obtained{}",
                    if not_after.is_none() {
                        " (HTTPS handshakes fail until one is)"
                    } else {
                        " (the current one stays in use)"
                    }
                );
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

/// One attempt: the account (stored, or created), an order, the files.
async fn obtain(
    certs: &Certs,
    s: &Settings,
    account: &mut Option<Account>,
) -> anyhow::Result<OffsetDateTime> {
    let acct = match account {
        Some(a) => a.clone(),
        None => {
            let a = open_account(s).await?;
            *account = Some(a.clone());
            a
        }
    };
    let result = order(certs, s, &acct).await;
    if let Err(e) = &result
        && account_gone(e)
    {
        // The CA forgot the account (e.g. a test CA restarted): the next
        // attempt creates one.
        tracing::warn!("ACME: the CA does not know the stored account; a new one will be created");
        *account = None;
        let path = s.dir.join(ACCOUNT_FILE);
        if let Err(e) = tokio::fs::remove_file(&path).await {
            tracing::warn!(error = %e, path = %path.display(), "ACME: cannot remove the stored account");
        }
    }
    result
}

fn account_gone(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<instant_acme::Error>(),
            Some(instant_acme::Error::Api(p))
                if p.r#type.as_deref() == Some("urn:ietf:params:acme:error:accountDoesNotExist")
        )
    })
}

/// `account.json`: the credentials and the directory they belong to.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

fn account_builder(s: &Settings) -> anyhow::Result<AccountBuilder> {
    match &s.ca_file {
        Some(f) => Account::builder_with_root(f)
            .with_context(|| format!("MAMIS_ACME_CA_FILE: no CA certificate in {}", f.display())),
        None => Account::builder().context("ACME: the HTTPS client (system roots)"),
    }
}

/// The stored account of this directory, or a new one (stored).
async fn open_account(s: &Settings) -> anyhow::Result<Account> {
    let path = s.dir.join(ACCOUNT_FILE);
    let stored = match tokio::fs::read(&path).await {
        Ok(bytes) => serde_json::from_slice::<StoredAccount>(&bytes)
            .map(Some)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, path = %path.display(), "ACME: the stored account does not read; creating a new one");
                None
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    match stored {
        Some(a) if a.directory == s.directory => {
            return account_builder(s)?
                .from_credentials(a.credentials)
                .await
                .with_context(|| format!("ACME: the directory {} (stored account)", s.directory));
        }
        Some(a) => tracing::info!(
            stored = %a.directory,
            "ACME: the stored account belongs to another directory; creating one"
        ),
        None => {}
    }
    let contact: Vec<&str> = s.contact.iter().map(String::as_str).collect();
    let (account, credentials) = account_builder(s)?
        .create(
            &NewAccount {
                contact: &contact,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            s.directory.clone(),
            None,
        )
        .await
        .with_context(|| format!("ACME: creating an account at {}", s.directory))?;
    let json = serde_json::to_vec_pretty(&StoredAccount {
        directory: s.directory.clone(),
        credentials,
    })
    .context("ACME: the account as JSON")?;
    write_private(&s.dir, ACCOUNT_FILE, json).await?;
    tracing::info!(account = %account.id(), "ACME: account created and stored");
    Ok(account)
}

/// Orders, validates, finalises; stores and serves the certificate.
async fn order(certs: &Certs, s: &Settings, account: &Account) -> anyhow::Result<OffsetDateTime> {
    let ids = [Identifier::Dns(s.domain.clone())];
    let mut order = account
        .new_order(&NewOrder::new(&ids))
        .await
        .context("ACME: placing the order")?;
    let mut answering = Vec::new();
    let validated = validate(certs, &mut order, &mut answering).await;
    for domain in &answering {
        certs.clear_challenge(domain);
    }
    validated?;

    let key = KeyPair::generate().context("ACME: generating the certificate's key")?;
    let mut params = CertificateParams::new(vec![s.domain.clone()])
        .context("ACME: the domain as a certificate name")?;
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .context("ACME: making the CSR")?;
    order
        .finalize_csr(csr.der())
        .await
        .context("ACME: finalising the order")?;
    // Polls while the CA answers "processing" (RFC 8555 §7.4).
    let chain = order
        .poll_certificate(&RetryPolicy::new().timeout(ORDER_WAIT))
        .await
        .context("ACME: waiting for the certificate")?;
    let key_pem = key.serialize_pem();
    let stored = parse_stored(chain.as_bytes(), key_pem.as_bytes(), &s.domain)
        .context("ACME: the certificate the CA sent")?;
    // Key first: a crash between the two leaves a pair that does not
    // match, which the next start logs and replaces.
    write_private(&s.dir, KEY_FILE, key_pem.into_bytes()).await?;
    write_private(&s.dir, CERT_FILE, chain.into_bytes()).await?;
    certs.set_current(stored.key)?;
    Ok(stored.not_after)
}

/// Answers each pending authorization's TLS-ALPN-01 challenge and waits
/// until the order is ready. `answering` gets the domains whose challenge
/// certificate was set (to clear afterwards, whatever the outcome).
async fn validate(
    certs: &Certs,
    order: &mut Order,
    answering: &mut Vec<String>,
) -> anyhow::Result<()> {
    {
        let mut authorizations = order.authorizations();
        while let Some(next) = authorizations.next().await {
            let mut authz = next.context("ACME: fetching an authorization")?;
            match authz.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => bail!(
                    "ACME: the authorization for {} is {other:?}",
                    authz.identifier()
                ),
            }
            let mut challenge = authz
                .challenge(ChallengeType::TlsAlpn01)
                .context("ACME: the CA offers no tls-alpn-01 challenge")?;
            let domain = challenge.identifier().to_string();
            let cert =
                challenge_certificate(&domain, challenge.key_authorization().digest().as_ref())?;
            certs.set_challenge(&domain, cert)?;
            answering.push(domain);
            challenge
                .set_ready()
                .await
                .context("ACME: telling the CA the challenge is ready")?;
        }
    }
    let status = order
        .poll_ready(&RetryPolicy::new().timeout(ORDER_WAIT))
        .await
        .context("ACME: waiting for validation")?;
    if status != OrderStatus::Ready {
        bail!(
            "ACME: the order is {status:?} after validation: {}",
            why_invalid(order).await
        );
    }
    Ok(())
}

/// The errors of the order's challenges, as the CA now reports them.
async fn why_invalid(order: &mut Order) -> String {
    let mut reasons = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authz)) = authorizations.next().await {
        if let Ok(state) = authz.refresh().await {
            let name = state.identifier().to_string();
            for c in &state.challenges {
                if let Some(problem) = &c.error {
                    reasons.push(format!("{name} {:?}: {problem}", c.r#type));
                }
            }
        }
    }
    if reasons.is_empty() {
        "the CA gave no reason".to_owned()
    } else {
        reasons.join("; ")
    }
}

/// RFC 8737's self-signed certificate for `domain` with the critical
/// acmeIdentifier extension holding the SHA-256 of the key authorization.
fn challenge_certificate(domain: &str, digest: &[u8]) -> anyhow::Result<Arc<CertifiedKey>> {
    ensure!(
        digest.len() == 32,
        "ACME: a key authorization digest of {} bytes",
        digest.len()
    );
    let mut params = CertificateParams::new(vec![domain.to_owned()])
        .context("ACME: the domain as a certificate name")?;
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(digest)];
    let key = KeyPair::generate().context("ACME: generating the challenge key")?;
    let cert = params
        .self_signed(&key)
        .context("ACME: signing the challenge certificate")?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing =
        rustls::crypto::ring::sign::any_supported_type(&key).context("ACME: the challenge key")?;
    // Not `certified`: its key check parses the certificate with webpki,
    // which refuses the critical acmeIdentifier extension; the key was
    // made with the certificate just above.
    Ok(Arc::new(CertifiedKey::new(
        vec![cert.der().clone()],
        signing,
    )))
}

/// The stored certificate, `None` when there is none yet.
fn read_stored(dir: &Path, domain: &str) -> anyhow::Result<Option<Stored>> {
    let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    let chain = match std::fs::read(&cert_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", cert_path.display())),
    };
    let key =
        std::fs::read(&key_path).with_context(|| format!("cannot read {}", key_path.display()))?;
    parse_stored(&chain, &key, domain)
        .with_context(|| format!("{} / {}", cert_path.display(), key_path.display()))
        .map(Some)
}

/// Reads a PEM chain and key; checks that they belong together and that
/// the certificate names `domain`; notes when it ends.
fn parse_stored(chain_pem: &[u8], key_pem: &[u8], domain: &str) -> anyhow::Result<Stored> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<_, _>>()
        .context("not PEM certificates")?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).context("no private key")?;
    let not_after = {
        let leaf = chain.first().context("no certificate")?;
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| anyhow::anyhow!("the certificate does not parse: {e}"))?;
        let names = parsed
            .subject_alternative_name()
            .map_err(|e| anyhow::anyhow!("the certificate's names do not parse: {e}"))?;
        let covers = names.is_some_and(|san| {
            san.value.general_names.iter().any(|n| {
                matches!(n, x509_parser::extensions::GeneralName::DNSName(d)
                    if d.eq_ignore_ascii_case(domain))
            })
        });
        ensure!(covers, "the certificate is not for {domain}");
        OffsetDateTime::from_unix_timestamp(parsed.validity().not_after.timestamp())
            .context("the certificate's end is out of range")?
    };
    let key = certified(chain, &key)?;
    Ok(Stored { key, not_after })
}

/// Writes `dir/name` readable by its owner only, all or nothing (a
/// temporary file, flushed, then renamed over the old one).
async fn write_private(dir: &Path, name: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
    let (dir, name) = (dir.to_owned(), name.to_owned());
    tokio::task::spawn_blocking(move || write_private_now(&dir, &name, &bytes))
        .await
        .context("ACME: the write task failed")?
}

fn write_private_now(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let cannot = || format!("cannot write {}", path.display());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).with_context(cannot)?;
    // A temporary file left by a crash keeps its mode: set it again.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .with_context(cannot)?;
    file.write_all(bytes).with_context(cannot)?;
    file.sync_all().with_context(cannot)?;
    drop(file);
    std::fs::rename(&tmp, &path).with_context(cannot)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
    }

    #[test]
    fn a_stored_certificate_is_used_only_for_its_domain_and_with_its_key() {
        let (cert, key) = self_signed(&["mamis.example.jp"]);
        let stored = parse_stored(cert.as_bytes(), key.as_bytes(), "MAMIS.example.jp").unwrap();
        assert!(stored.not_after > OffsetDateTime::now_utc());
        let other = parse_stored(cert.as_bytes(), key.as_bytes(), "other.example.jp");
        assert!(format!("{:#}", other.err().unwrap()).contains("not for other.example.jp"));
        let (_, wrong_key) = self_signed(&["mamis.example.jp"]);
        assert!(parse_stored(cert.as_bytes(), wrong_key.as_bytes(), "mamis.example.jp").is_err());
        assert!(parse_stored(b"", key.as_bytes(), "mamis.example.jp").is_err());
    }

    #[test]
    fn files_are_written_private_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        write_private_now(dir.path(), KEY_FILE, b"one").unwrap();
        write_private_now(dir.path(), KEY_FILE, b"two").unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!dir.path().join(format!(".{KEY_FILE}.tmp")).exists());
    }

    #[test]
    fn the_challenge_certificate_carries_the_acme_identifier() {
        let digest = [7u8; 32];
        let key = challenge_certificate("mamis.example.jp", &digest).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&key.cert[0]).unwrap();
        let ext = cert
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "1.3.6.1.5.5.7.1.31")
            .expect("acmeIdentifier");
        assert!(ext.critical);
        // An OCTET STRING of the 32 bytes.
        assert_eq!(&ext.value[..2], &[0x04, 32]);
        assert_eq!(&ext.value[2..], &digest);
        assert!(challenge_certificate("mamis.example.jp", &[0u8; 20]).is_err());
    }
}
