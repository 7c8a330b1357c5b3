//! The inquiry use case (お問合せフォーム): an inquiry stored for staff and mailed to the help desk, within the mail limits.

use std::net::IpAddr;

use crate::{
    mail::templates,
    service::Mailing,
    store::{inquiries, outbox},
};

/// Inquiries one address may send within the throttle window.
const INQUIRIES_PER_ADDRESS: u32 = 5;
/// Shown under the message when the address or the client has sent too many.
pub const TOO_MANY: &str =
    "短時間に多くのお問合せが送信されました。しばらく待ってから再度お送りください。";

/// An inquiry whose fields passed their rules.
#[derive(Clone, Debug)]
pub struct Inquiry {
    pub name: String,
    pub email: String,
    pub subject: String,
    pub message: String,
}

/// What became of an inquiry.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored and mailed to the help desk, under this receipt number.
    Received { id: u64 },
    /// Refused: too many from this address, or mail requests from this
    /// client ([`TOO_MANY`]).
    TooMany,
}

/// Stores the inquiry and queues its mail to the help desk in one
/// transaction, unless its address has sent too many lately or the client
/// has used up its allowance of mail requests (`mail::limit`), whatever
/// addresses it types.
pub async fn submit(m: &Mailing<'_>, inquiry: Inquiry, ip: IpAddr) -> anyhow::Result<Outcome> {
    let key = format!("inquiry:{}", inquiry.email.to_ascii_lowercase());
    let per_address = m.throttle.is_blocked(&key, INQUIRIES_PER_ADDRESS);
    let per_client = !per_address && !m.mail_limit.allow(ip);
    if per_client {
        tracing::warn!(client = %ip, "inquiry refused: too many mail requests from one client");
    }
    if per_address || per_client {
        return Ok(Outcome::TooMany);
    }
    m.throttle.fail(&key);
    let desk = m.config.helpdesk.email.clone();
    let f = inquiry;
    let id = m
        .store
        .write_ok(move |tx| {
            let q = inquiries::add(tx, &f.name, &f.email, &f.subject, &f.message)?;
            let (subject, body) =
                templates::inquiry(&q.name, &q.email, &q.subject, &q.message, q.id);
            outbox::enqueue(tx, &desk, &subject, body)?;
            Ok(q.id)
        })
        .await?;
    m.mail.wake();
    tracing::info!(inquiry_id = id, "inquiry received");
    Ok(Outcome::Received { id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::mailing::tests::Parts;

    fn inquiry(email: &str) -> Inquiry {
        Inquiry {
            name: "山田 太郎".into(),
            email: email.into(),
            subject: "件名".into(),
            message: "本文".into(),
        }
    }

    #[tokio::test]
    async fn an_inquiry_is_mailed_to_the_help_desk_until_its_address_sent_five() {
        let p = Parts::new(100);
        let ip = "192.0.2.1".parse().unwrap();
        let first = submit(&p.mailing(), inquiry("a@example.jp"), ip).await;
        assert_eq!(first.unwrap(), Outcome::Received { id: 1 });
        for _ in 1..INQUIRIES_PER_ADDRESS {
            submit(&p.mailing(), inquiry("A@example.jp"), ip)
                .await
                .unwrap();
        }
        let sixth = submit(&p.mailing(), inquiry("a@example.jp"), ip).await;
        assert_eq!(sixth.unwrap(), Outcome::TooMany);
        let mails = p.mails().await;
        assert_eq!(mails.len(), 5);
        assert!(mails.iter().all(|m| m.to == p.config.helpdesk.email));
    }
}
