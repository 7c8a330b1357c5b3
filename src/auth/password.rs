//! argon2id password hashes (PHC strings), computed behind a bound.
//!
//! Every argon2 run of the server (login, registration, password reset, the
//! dummy hash for unknown login IDs) goes through one [`Hasher`]: at most
//! `MAMIS_HASH_CONCURRENCY` runs at a time, each on one of as many dedicated
//! threads. A request that finds them all busy waits up to [`WAIT`], then
//! gets [`Busy`] (answered 503 with `Retry-After`).
//!
//! Each run needs `MAMIS_ARGON2_MEMORY_KIB` of working memory. Allocating
//! it per call (what `argon2`'s own API does) lets glibc keep the freed
//! 19 MiB blocks in its per-thread arenas and fragment them: under a flood
//! the server grew to ~240 MB and stayed there. Instead each hashing thread
//! allocates its block memory once, at its first run, and reuses it: the
//! server holds exactly `MAMIS_HASH_CONCURRENCY × MAMIS_ARGON2_MEMORY_KIB`
//! for hashing, whatever the load.

use std::{
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{Output, ParamsString, SaltString, rand_core::OsRng},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::config::Argon2Params;

/// How long a request waits for a free hashing slot before it is refused.
pub const WAIT: Duration = Duration::from_secs(2);
/// `Retry-After` (seconds) of a request refused because hashing was busy.
pub const BUSY_RETRY_AFTER_SECS: u64 = 5;
/// The page text of that refusal.
pub const BUSY_MESSAGE: &str = "ただいまアクセスが集中しているため、処理できませんでした。しばらく待ってからもう一度お試しください。";

/// Every hashing slot stayed taken for [`WAIT`]: try again later (503).
#[derive(Debug, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

/// True when `e` (or its cause) is [`Busy`].
pub fn is_busy(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Busy>())
}

fn hasher(p: Argon2Params) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(p.memory_kib, p.iterations, 1, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password on the current thread, outside any bound (for command
/// line tools and tests; the server uses [`Hasher::hash`]).
pub fn hash_blocking(password: &str, p: Argon2Params) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let h = hasher(p)?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
    Ok(h.to_string())
}

/// Checks a password against a stored PHC hash on the current thread (the
/// parameters are read from the hash itself).
pub fn verify_blocking(password: &str, phc: &str) -> anyhow::Result<bool> {
    let parsed =
        PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// True when a stored hash was not made with argon2id v19 and exactly the
/// parameters `p` (it is re-hashed at the next successful login). An
/// unreadable hash counts as outdated.
pub fn needs_rehash(phc: &str, p: Argon2Params) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let current = parsed.algorithm.as_str() == Algorithm::Argon2id.as_str()
        && parsed.version == Some(Version::V0x13 as u32);
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    !(current
        && params.m_cost() == p.memory_kib
        && params.t_cost() == p.iterations
        && params.p_cost() == 1)
}

/// A hashing thread's working memory, kept between runs.
type Memory = Vec<Block>;

/// Runs argon2 in `memory` (grown to `params`' size when smaller; a hash
/// that needs more than `keep` blocks gets a buffer of its own that is
/// freed after it).
fn argon2_into(
    memory: &mut Memory,
    keep: usize,
    ctx: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> anyhow::Result<()> {
    let need = params.block_count();
    let run = |blocks: &mut [Block], out: &mut [u8]| {
        ctx.hash_password_into_with_memory(password, salt, out, blocks)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    };
    if need > keep.max(memory.len()) {
        let mut own = vec![Block::default(); need];
        return run(&mut own, out);
    }
    if memory.len() < need {
        memory.resize(need, Block::default());
    }
    run(&mut memory[..need], out)
}

/// [`hash_blocking`] in a hashing thread's memory.
fn hash_in(memory: &mut Memory, password: &str, p: Argon2Params) -> anyhow::Result<String> {
    let ctx = hasher(p)?;
    let params = ctx.params().clone();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let keep = params.block_count();
    argon2_into(
        memory,
        keep,
        &ctx,
        &params,
        password.as_bytes(),
        salt_bytes,
        &mut out,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// [`verify_blocking`] in a hashing thread's memory (which is not grown
/// beyond `keep` blocks for a stored hash with a larger memory cost).
fn verify_in(memory: &mut Memory, keep: usize, password: &str, phc: &str) -> anyhow::Result<bool> {
    let parsed =
        PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
    let bad = |e: argon2::password_hash::Error| anyhow::anyhow!("stored hash unreadable: {e}");
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(bad)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(bad)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        anyhow::bail!("stored hash has no salt or no output");
    };
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(bad)?;
    let ctx = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        memory,
        keep,
        &ctx,
        &params,
        password.as_bytes(),
        salt_bytes,
        &mut out,
    )?;
    let computed = Output::new(&out).map_err(bad)?;
    // Output's equality is constant-time.
    Ok(computed == expected)
}

type Job = Box<dyn FnOnce(&mut Memory) + Send + 'static>;

/// The bounded hashing service (cheap to clone; one per server).
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Argon2Params,
    slots: Arc<Semaphore>,
    jobs: Mutex<mpsc::Sender<Job>>,
    dummy: tokio::sync::OnceCell<String>,
}

impl Hasher {
    /// `concurrency` dedicated threads (at least 1) hashing with `params`.
    /// The threads end when the last clone of the hasher is dropped.
    pub fn new(concurrency: usize, params: Argon2Params) -> Hasher {
        let n = concurrency.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                // argon2 keeps its memory on the heap; a small stack will do.
                .stack_size(256 * 1024)
                .spawn(move || {
                    // Allocated at the first run, reused by every later one.
                    let mut memory = Memory::new();
                    loop {
                        // The lock is held only while waiting for a job.
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return, // the hasher is gone
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a hashing thread");
            }
        }
        Hasher {
            inner: Arc::new(Inner {
                params,
                slots: Arc::new(Semaphore::new(n)),
                jobs: Mutex::new(tx),
                dummy: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> Argon2Params {
        self.inner.params
    }

    /// Runs `f` on a hashing thread once a slot is free (waiting at most
    /// [`WAIT`]). The slot is held until `f` has finished, even when the
    /// request that asked for it has gone away.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Memory) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let permit: OwnedSemaphorePermit =
            match tokio::time::timeout(WAIT, self.inner.slots.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                Ok(Err(_)) => anyhow::bail!("hashing slots closed"),
                Err(_) => return Err(Busy.into()),
            };
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |memory: &mut Memory| {
            let out = f(memory);
            drop(permit);
            let _ = tx.send(out);
        });
        self.inner
            .jobs
            .lock()
            .map_err(|_| anyhow::anyhow!("hashing queue poisoned"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("hashing threads are gone"))?;
        rx.await.context("hashing thread failed")?
    }

    /// Hashes a password with the current parameters.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let p = self.inner.params;
        self.run(move |memory| hash_in(memory, &password, p)).await
    }

    /// A hash of the current cost to check a password against when the login
    /// ID is unknown, so that both cases take the same time (made once).
    pub async fn dummy_hash(&self) -> anyhow::Result<String> {
        self.inner
            .dummy
            .get_or_try_init(|| self.hash("mamis-dummy-password".into()))
            .await
            .cloned()
    }

    /// Checks a password against a stored PHC hash (made with any argon2
    /// variant and parameters).
    pub async fn verify(&self, password: String, phc: String) -> anyhow::Result<bool> {
        let keep = hasher(self.inner.params)?.params().block_count();
        self.run(move |memory| verify_in(memory, keep, &password, &phc))
            .await
    }
}

/// The stored form of an initial password (an imported member's, printed on
/// the postcard): `$mamis-initial$v=1$<salt>$<mac>`, the MAC being
/// HMAC-SHA256 under a server key kept in the database (`meta`) over the
/// salt and the password, both base64 without padding.
///
/// Initial passwords are 20 random characters of 57 (about 116 bits), so a
/// slow hash adds nothing against guessing them; a keyed hash lets 10,000
/// members be imported in one transaction in well under a second, and a
/// stolen database alone (without the key, which a backup holds too, so it
/// does not protect backups) gives no way to test guesses offline.
pub const INITIAL_PREFIX: &str = "$mamis-initial$v=1$";

type InitialMac = hmac::Hmac<sha2::Sha256>;

fn initial_mac(key: &[u8; 32], salt: &[u8], password: &str) -> anyhow::Result<InitialMac> {
    use hmac::Mac as _;
    let mut mac = <InitialMac as hmac::Mac>::new_from_slice(key)
        .map_err(|e| anyhow::anyhow!("initial-password key: {e}"))?;
    mac.update(&(salt.len() as u64).to_be_bytes());
    mac.update(salt);
    mac.update(password.as_bytes());
    Ok(mac)
}

/// True when a stored hash is an initial password's keyed hash.
pub fn is_initial(stored: &str) -> bool {
    stored.starts_with(INITIAL_PREFIX)
}

/// The keyed hash of an initial password, with a fresh 16-byte salt.
pub fn hash_initial(key: &[u8; 32], password: &str) -> anyhow::Result<String> {
    use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};
    use hmac::Mac as _;
    let salt: [u8; 16] = rand::random();
    let tag = initial_mac(key, &salt, password)?.finalize().into_bytes();
    Ok(format!(
        "{INITIAL_PREFIX}{}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(tag)
    ))
}

/// Checks a password against an initial password's keyed hash, comparing
/// the MACs in constant time. False for anything else (an argon2 hash, an
/// unreadable value).
pub fn verify_initial(key: &[u8; 32], password: &str, stored: &str) -> bool {
    use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};
    use hmac::Mac as _;
    let Some((salt, tag)) = stored
        .strip_prefix(INITIAL_PREFIX)
        .and_then(|rest| rest.split_once('$'))
    else {
        return false;
    };
    let (Ok(salt), Ok(tag)) = (STANDARD_NO_PAD.decode(salt), STANDARD_NO_PAD.decode(tag)) else {
        return false;
    };
    match initial_mac(key, &salt, password) {
        Ok(mac) => mac.verify_slice(&tag).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn production_parameters_make_an_argon2id_hash_that_verifies() {
        let hasher = Hasher::new(1, Argon2Params::PRODUCTION);
        let h = hasher.hash("Abc12345!".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(hasher.verify("Abc12345!".into(), h.clone()).await.unwrap());
        assert!(!hasher.verify("Abc12345?".into(), h.clone()).await.unwrap());
        assert!(!needs_rehash(&h, Argon2Params::PRODUCTION));
        assert!(needs_rehash(&h, Argon2Params::TESTING));
    }

    #[test]
    fn initial_passwords_verify_only_with_their_key_and_password() {
        let key = [7u8; 32];
        let h = hash_initial(&key, "AbcdEfgh23456789Jkmn").unwrap();
        assert!(
            is_initial(&h) && h.starts_with("$mamis-initial$v=1$"),
            "{h}"
        );
        assert!(verify_initial(&key, "AbcdEfgh23456789Jkmn", &h));
        assert!(!verify_initial(&key, "AbcdEfgh23456789Jkmm", &h));
        assert!(!verify_initial(&[8u8; 32], "AbcdEfgh23456789Jkmn", &h));
        assert_ne!(h, hash_initial(&key, "AbcdEfgh23456789Jkmn").unwrap());
        let argon = hash_blocking("AbcdEfgh23456789Jkmn", Argon2Params::TESTING).unwrap();
        assert!(!is_initial(&argon));
        assert!(!verify_initial(&key, "AbcdEfgh23456789Jkmn", &argon));
        assert!(!verify_initial(&key, "x", "$mamis-initial$v=1$!!$??"));
    }

    #[test]
    fn each_hash_has_its_own_salt() {
        let a = hash_blocking("Abc12345!", Argon2Params::TESTING).unwrap();
        let b = hash_blocking("Abc12345!", Argon2Params::TESTING).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn reused_memory_gives_the_same_hashes_as_the_argon2_api() {
        let p = Argon2Params::TESTING;
        let mut memory = Memory::new();
        let keep = hasher(p).unwrap().params().block_count();
        let mine = hash_in(&mut memory, "Abc12345!", p).unwrap();
        assert!(mine.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{mine}");
        assert!(verify_blocking("Abc12345!", &mine).unwrap());
        assert!(!verify_blocking("Abc12345?", &mine).unwrap());
        // Hashes made by the argon2 API, with other parameters and
        // variants, verify in the reused memory, which is not grown for
        // a larger one.
        for (alg, m) in [
            (Algorithm::Argon2id, 32),
            (Algorithm::Argon2i, 64),
            (Algorithm::Argon2id, 256),
        ] {
            let params = Params::new(m, 1, 1, None).unwrap();
            let salt = SaltString::generate(&mut OsRng);
            let theirs = Argon2::new(alg, Version::V0x13, params)
                .hash_password(b"Abc12345!", &salt)
                .unwrap()
                .to_string();
            assert!(
                verify_in(&mut memory, keep, "Abc12345!", &theirs).unwrap(),
                "{theirs}"
            );
            assert!(!verify_in(&mut memory, keep, "Abc12345?", &theirs).unwrap());
        }
        assert_eq!(memory.len(), keep);
        assert!(verify_in(&mut memory, keep, "x", "garbage").is_err());
    }

    #[test]
    fn other_algorithms_and_unreadable_hashes_are_outdated() {
        let p = Argon2Params::TESTING;
        let h = hash_blocking("Abc12345!", p).unwrap();
        assert!(!needs_rehash(&h, p));
        assert!(needs_rehash(&h.replace("argon2id", "argon2i"), p));
        assert!(needs_rehash("not a hash", p));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_bound_requests_wait_then_are_refused() {
        let hasher = Hasher::new(1, Argon2Params::TESTING);
        // Occupy the only slot for longer than WAIT.
        let (started_tx, started_rx) = oneshot::channel();
        let h = hasher.clone();
        let blocker = tokio::spawn(async move {
            h.run(move |_| {
                let _ = started_tx.send(());
                std::thread::sleep(WAIT + Duration::from_millis(800));
                Ok(())
            })
            .await
        });
        started_rx.await.unwrap();
        let t = Instant::now();
        let refused = hasher.hash("Abc12345!".into()).await.unwrap_err();
        assert!(is_busy(&refused), "{refused:#}");
        assert!(t.elapsed() >= WAIT, "refused before waiting");
        blocker.await.unwrap().unwrap();
        // The slot is free again.
        assert!(hasher.hash("Abc12345!".into()).await.is_ok());
    }
}
