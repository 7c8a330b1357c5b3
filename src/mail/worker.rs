//! The outbox worker: delivers due mail, retries failures with exponential
//! backoff (base × 2^attempts, at most 30 minutes), gives a mail up once it
//! has failed for `MAMIS_MAIL_GIVE_UP_HOURS` (an error in the log and an
//! audit entry), and wakes when a request queues new mail. Without SMTP it only marks mail as kept in the local
//! outbox, where `/dev/outbox` shows it.

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;

use crate::{
    config::Config,
    store::{
        Store,
        audit::{self, AuditEntry, AuditKind},
        now, outbox,
    },
};

const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);
const IDLE_POLL: Duration = Duration::from_secs(30);

/// Handle used by requests to wake the worker after queueing mail.
#[derive(Clone, Default)]
pub struct MailSignal(Arc<Notify>);

impl MailSignal {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Delay before the attempt after `attempts` failures.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    base.saturating_mul(1u32 << attempts.min(16))
        .min(MAX_BACKOFF)
}

/// Runs the worker and starts it again should it ever stop (a panic in a
/// dependency must not silently end mail delivery).
pub async fn supervise(store: Store, config: Arc<Config>, signal: MailSignal) {
    loop {
        let task = tokio::spawn(run(store.clone(), config.clone(), signal.clone()));
        match task.await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, "mail worker stopped; restarting");
                tokio::time::sleep(config.mail_retry_base).await;
            }
        }
    }
}

/// Runs until the process ends.
pub async fn run(store: Store, config: Arc<Config>, signal: MailSignal) {
    loop {
        let wait = match drain(&store, &config).await {
            Ok(next_at) => next_at.map_or(IDLE_POLL, |at| {
                Duration::from_secs(u64::try_from(at - now()).unwrap_or(0)).min(IDLE_POLL)
            }),
            Err(e) => {
                tracing::error!(error = ?e, "mail worker failed; retrying");
                config.mail_retry_base
            }
        };
        // Unix-second timestamps: never spin faster than the retry base.
        let wait = wait.max(config.mail_retry_base.min(Duration::from_secs(1)));
        tokio::select! {
            () = signal.0.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// True when a mail queued at `created_at` has been failing long enough.
fn given_up(config: &Config, created_at: i64) -> bool {
    let limit = i64::try_from(config.mail_give_up.as_secs()).unwrap_or(i64::MAX);
    now().saturating_sub(created_at) >= limit
}

/// Delivers every due mail once; returns when the next pending one is due.
async fn drain(store: &Store, config: &Config) -> anyhow::Result<Option<i64>> {
    let (due, _) = store.read(|tx| outbox::due(tx, 50)).await?;
    for mail in due {
        let id = mail.id;
        let result = match &config.smtp {
            Some(smtp) => crate::mail::smtp::send(smtp, &config.mail_from, &mail).await,
            None => Ok(()),
        };
        match result {
            Ok(()) => {
                if config.smtp.is_some() {
                    tracing::info!(mail_id = id, subject = %mail.subject, "mail delivered");
                } else {
                    tracing::info!(mail_id = id, subject = %mail.subject, "mail kept in the local outbox (/dev/outbox)");
                }
                store.write_ok(move |tx| outbox::mark_sent(tx, id)).await?;
            }
            Err(e) if given_up(config, mail.created_at) => {
                let msg = format!("{e:#}");
                tracing::error!(
                    mail_id = id,
                    attempts = mail.attempts + 1,
                    to = %mail.to,
                    subject = %mail.subject,
                    error = %msg,
                    "mail given up: not delivered for too long (MAMIS_MAIL_GIVE_UP_HOURS)"
                );
                let entry = AuditEntry::new(AuditKind::MailGivenUp)
                    .login_id(mail.to.clone())
                    .detail(format!(
                        "mail {id} \"{}\" after {} attempts: {msg}",
                        mail.subject,
                        mail.attempts + 1
                    ));
                store
                    .write_ok(move |tx| {
                        outbox::give_up(tx, id, &msg)?;
                        audit::record(tx, entry).map(drop)
                    })
                    .await?;
            }
            Err(e) => {
                let delay = backoff(config.mail_retry_base, mail.attempts);
                tracing::warn!(mail_id = id, attempts = mail.attempts + 1, retry_in = ?delay, error = %format!("{e:#}"), "mail not delivered");
                let retry_at = now() + i64::try_from(delay.as_secs()).unwrap_or(1800).max(0);
                let msg = format!("{e:#}");
                store
                    .write_ok(move |tx| outbox::mark_failed(tx, id, &msg, retry_at))
                    .await?;
            }
        }
    }
    let (_, next) = store.read(|tx| outbox::due(tx, 0)).await?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_secs(5);
        assert_eq!(backoff(b, 0), Duration::from_secs(5));
        assert_eq!(backoff(b, 3), Duration::from_secs(40));
        assert_eq!(backoff(b, 30), MAX_BACKOFF);
    }
}
