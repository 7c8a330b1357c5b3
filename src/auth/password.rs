//! argon2id password hashes (PHC strings), computed off the async runtime.

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::config::Argon2Params;

fn hasher(p: Argon2Params) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(p.memory_kib, p.iterations, 1, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash(password: String, p: Argon2Params) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password, p))
        .await
        .context("hashing task failed")?
}

/// Hashes a password on the current thread.
pub fn hash_blocking(password: &str, p: Argon2Params) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let h = hasher(p)?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
    Ok(h.to_string())
}

/// Checks a password against a stored PHC hash on a blocking thread (the
/// parameters are read from the hash itself).
pub async fn verify(password: String, phc: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed =
            PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .context("verify task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn production_parameters_make_an_argon2id_hash_that_verifies() {
        let h = hash("Abc12345!".into(), Argon2Params::PRODUCTION)
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("Abc12345!".into(), h.clone()).await.unwrap());
        assert!(!verify("Abc12345?".into(), h).await.unwrap());
    }

    #[test]
    fn each_hash_has_its_own_salt() {
        let a = hash_blocking("Abc12345!", Argon2Params::TESTING).unwrap();
        let b = hash_blocking("Abc12345!", Argon2Params::TESTING).unwrap();
        assert_ne!(a, b);
    }
}
