//! Sign-in mail: over SMTP (`lettre`), or, in dev mode, into the server log.
//!
//! Only plain SMTP is built in (`smtp://[user:password@]host[:port]`): STARTTLS and SMTPS need
//! one of lettre's TLS features, which would add a TLS stack to the build. Point the URL at a
//! local relay (or a provider's plain-SMTP port on a private network).

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::sign_in::SignInSettings;

/// Where sign-in mail goes.
#[derive(Debug, Clone)]
pub enum Mailer {
    /// Dev mode: the message is written to the log at warn level with a clear marker.
    Log,
    /// A real SMTP server.
    Smtp {
        /// The connection settings.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The sender.
        from: Mailbox,
    },
    /// Not dev mode and no SMTP configured: nothing can be sent, and every attempt says so
    /// in the log.
    Unconfigured,
}

/// A message to one address.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// Why a mail could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `VIBARIANT_SMTP_URL` is malformed.
    #[error("VIBARIANT_SMTP_URL must be smtp://[user:password@]host[:port]")]
    BadUrl,
    /// An address does not parse.
    #[error("not a mail address: {0}")]
    BadAddress(String),
    /// Building the message failed.
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP exchange failed.
    #[error("the SMTP server refused or did not answer: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// Mail is not configured.
    #[error("no SMTP server is configured (VIBARIANT_SMTP_URL)")]
    Unconfigured,
}

/// Parses `smtp://[user:password@]host[:port]` into a transport.
fn smtp_transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let rest = url.strip_prefix("smtp://").ok_or(MailError::BadUrl)?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((credentials, host_port)) => (Some(credentials), host_port),
        None => (None, authority),
    };
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| MailError::BadUrl)?),
        None => (host_port, 25),
    };
    if host.is_empty() {
        return Err(MailError::BadUrl);
    }
    // Plain SMTP is the only transport compiled in (see the module documentation).
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(std::time::Duration::from_secs(10)));
    if let Some((user, password)) = credentials.and_then(|c| c.split_once(':')) {
        builder = builder.credentials(Credentials::new(user.to_owned(), password.to_owned()));
    }
    Ok(builder.build())
}

impl Mailer {
    /// The mailer the configuration asks for.
    pub fn new(settings: &SignInSettings, dev_mode: bool) -> Self {
        if dev_mode {
            return Mailer::Log;
        }
        let Some(url) = &settings.smtp_url else {
            tracing::warn!("VIBARIANT_SMTP_URL is not set: sign-in mail cannot be sent");
            return Mailer::Unconfigured;
        };
        let transport = match smtp_transport(url) {
            Ok(transport) => transport,
            Err(error) => {
                tracing::error!(%error, "sign-in mail cannot be sent");
                return Mailer::Unconfigured;
            }
        };
        match settings.mail_from.parse::<Mailbox>() {
            Ok(from) => Mailer::Smtp { transport, from },
            Err(_) => {
                let from = &settings.mail_from;
                tracing::error!(%from, "VIBARIANT_MAIL_FROM is not an address");
                Mailer::Unconfigured
            }
        }
    }

    /// Sends `mail`, or logs it in dev mode.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        match self {
            Mailer::Log => {
                // Dev mode only: the link is the whole point of the message, so it is logged.
                tracing::warn!(
                    to = %mail.to,
                    subject = %mail.subject,
                    "DEV MODE MAIL (not sent; no VIBARIANT_SECRET_KEY):\n{}",
                    mail.body
                );
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let to: Mailbox =
                    mail.to.parse().map_err(|_| MailError::BadAddress(mail.to.clone()))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject.clone())
                    .body(mail.body.clone())?;
                transport.send(message).await?;
                Ok(())
            }
            Mailer::Unconfigured => Err(MailError::Unconfigured),
        }
    }

    /// Sends `mail` in the background so the response time does not depend on the mail
    /// server (or on whether mail was sent at all); failures are logged without the body.
    pub fn send_later(&self, mail: Mail) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(error) = mailer.send(&mail).await {
                tracing::error!(%error, subject = %mail.subject, "sign-in mail was not sent");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_parse_with_and_without_credentials() {
        assert!(smtp_transport("smtp://127.0.0.1:2525").is_ok());
        assert!(smtp_transport("smtp://user:pw@mail.example:587").is_ok());
        assert!(smtp_transport("smtp://mail.example").is_ok());
        assert!(matches!(smtp_transport("smtps://mail.example"), Err(MailError::BadUrl)));
        assert!(matches!(smtp_transport("smtp://:25"), Err(MailError::BadUrl)));
        assert!(matches!(smtp_transport("smtp://host:port"), Err(MailError::BadUrl)));
    }
}
