//! Delivery of one mail over SMTP with mail-send.

use std::time::Duration;

use anyhow::Context;
use mail_send::{SmtpClientBuilder, mail_builder::MessageBuilder};

use crate::{config::SmtpSettings, store::outbox::Mail};

/// How long one delivery attempt may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Splits `Name <addr@host>` into its display name and address.
pub fn split_from(from: &str) -> (String, String) {
    match from.rsplit_once('<') {
        Some((name, addr)) => (
            name.trim().trim_matches('"').to_owned(),
            addr.trim_end_matches('>').trim().to_owned(),
        ),
        None => (String::new(), from.trim().to_owned()),
    }
}

fn message<'a>(mail: &'a Mail, from: &'a (String, String), domain: &str) -> MessageBuilder<'a> {
    let nonce: u64 = rand::random();
    MessageBuilder::new()
        .from((from.0.as_str(), from.1.as_str()))
        .to(mail.to.as_str())
        .subject(mail.subject.as_str())
        .message_id(format!("mamis.{}.{nonce:016x}@{domain}", mail.id))
        .text_body(mail.body.as_str())
}

/// Sends one mail. `smtp://` upgrades with STARTTLS when the server offers
/// it and continues in plain text otherwise; `smtps://` is TLS throughout.
pub async fn send(settings: &SmtpSettings, from: &str, mail: &Mail) -> anyhow::Result<()> {
    let from = split_from(from);
    let domain = from
        .1
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d)
        .to_owned();
    let mut builder = SmtpClientBuilder::new(settings.host.as_str(), settings.port)
        .map_err(|e| anyhow::anyhow!("SMTP client: {e}"))?
        .implicit_tls(settings.implicit_tls)
        .timeout(TIMEOUT);
    if let Some((user, pass)) = &settings.credentials {
        builder = builder.credentials((user.as_str(), pass.as_str()));
    }
    let target = format!("{}:{}", settings.host, settings.port);
    match builder.connect().await {
        Ok(mut client) => {
            client
                .send(message(mail, &from, &domain))
                .await
                .with_context(|| format!("SMTP send to {target}"))?;
            let _ = client.quit().await;
        }
        Err(mail_send::Error::MissingStartTls) if !settings.implicit_tls => {
            let mut client = builder
                .connect_plain()
                .await
                .with_context(|| format!("SMTP connect to {target}"))?;
            client
                .send(message(mail, &from, &domain))
                .await
                .with_context(|| format!("SMTP send to {target}"))?;
            let _ = client.quit().await;
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("SMTP connect to {target}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_header_is_split() {
        assert_eq!(
            split_from("MAMIS <noreply@mamis.test>"),
            ("MAMIS".into(), "noreply@mamis.test".into())
        );
        assert_eq!(split_from("a@b.jp"), (String::new(), "a@b.jp".into()));
    }
}
