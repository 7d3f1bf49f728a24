//! The device flow from the terminal's side (RFC 8628): ask for a code, show the person where
//! to approve it, and poll until the server grants tokens, refuses, or the code expires.

use std::io::Write;
use std::time::Duration;

use tokio::time::Instant;

use crate::api::{Api, ApiError, Poll, Refusal, Tokens};

/// RFC 8628 §3.5: each `slow_down` adds five seconds to the polling interval for good.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Why signing in stopped without tokens.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The person pressed Deny.
    #[error(
        "the sign-in was denied in the browser; run `vibariant login` again if that was a mistake"
    )]
    Denied,
    /// Nobody approved before the code expired.
    #[error(
        "the sign-in code expired before it was approved; run `vibariant login` again and \
         approve it in the browser within {minutes} minutes"
    )]
    Expired {
        /// The code's lifetime, in minutes.
        minutes: u64,
    },
    /// The server no longer knows the code.
    #[error(
        "the server no longer knows this sign-in code (already used or removed); run \
         `vibariant login` again"
    )]
    InvalidGrant,
    /// Another error code from the token endpoint.
    #[error("the server refused the sign-in ({0}); run `vibariant login` again")]
    Refused(String),
    /// The server could not be asked.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Runs the device flow against `api`, telling the person what to do on `prompt` (the
/// terminal's stderr, so that stdout holds only the command's result).
pub async fn device_flow(api: &Api, prompt: &mut dyn Write) -> Result<Tokens, LoginError> {
    let code = api.device_code().await?;
    tracing::debug!(?code, "device code issued");
    let minutes = code.expires_in.div_ceil(60);
    // The prompt is advice to a person; a closed stderr must not stop the sign-in.
    let _ = writeln!(
        prompt,
        "To sign in, open this page in a browser and approve the code {code}:\n  {url}\n\
         (or open {plain} and type the code). Waiting for approval, up to {minutes} minutes...",
        code = code.user_code,
        url = code.verification_uri_complete,
        plain = code.verification_uri,
    );
    let _ = prompt.flush();

    let deadline = Instant::now() + Duration::from_secs(code.expires_in);
    let mut interval = Duration::from_secs(code.interval.max(1));
    // The first poll goes out at once: a server in dev mode approves immediately, and one
    // early request is within RFC 8628's politeness (it asks for the interval *between* polls).
    let mut wait = Duration::ZERO;
    loop {
        if Instant::now() + wait >= deadline {
            return Err(LoginError::Expired { minutes });
        }
        tokio::time::sleep(wait).await;
        wait = interval;
        match api.poll_device_token(&code.device_code).await {
            Ok(Poll::Granted(tokens)) => return Ok(tokens),
            Ok(Poll::Pending) => {}
            Ok(Poll::SlowDown) | Err(ApiError::RateLimited) => {
                interval += SLOW_DOWN_STEP;
                wait = interval;
                tracing::debug!(interval_secs = interval.as_secs(), "polling more slowly");
            }
            Ok(Poll::Refused(Refusal::Denied)) => return Err(LoginError::Denied),
            Ok(Poll::Refused(Refusal::Expired)) => return Err(LoginError::Expired { minutes }),
            Ok(Poll::Refused(Refusal::InvalidGrant)) => return Err(LoginError::InvalidGrant),
            Ok(Poll::Refused(Refusal::Other(code))) => return Err(LoginError::Refused(code)),
            Err(error) => return Err(error.into()),
        }
    }
}
