//! Running the router as an AWS Lambda function (API Gateway HTTP API or a function URL).
//!
//! The function is the same [`crate::app`] the server mounts: `lambda_http` turns each
//! invocation's API Gateway v2 event into an HTTP request, the router answers it, and the answer
//! goes back to the Lambda Runtime API. [`runtime_present`] is how `main` chooses: the Lambda
//! execution environment always sets `AWS_LAMBDA_RUNTIME_API`, and nothing else does.
//!
//! An execution environment handles one invocation at a time and may be frozen between them, so
//! nothing runs in the background here: every batch commits inside its own invocation, before
//! the answer is sent.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use axum::extract::ConnectInfo;
use lambda_http::RequestExt as _;
use lambda_http::request::RequestContext;
use tower::ServiceExt as _;

use crate::settings::Config;

/// The variable the Lambda execution environment sets to the Runtime API's `host:port`.
pub const RUNTIME_API_VAR: &str = "AWS_LAMBDA_RUNTIME_API";

/// True when this process runs inside a Lambda execution environment.
pub fn runtime_present() -> bool {
    std::env::var_os(RUNTIME_API_VAR).is_some_and(|value| !value.is_empty())
}

/// Opens the store (migrating it, and creating a first project on an empty database as the
/// server does) and answers invocations until the runtime stops the process.
pub async fn run(config: Config) -> anyhow::Result<()> {
    tracing::info!(
        function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default(),
        version = std::env::var("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or_default(),
        "starting as a Lambda function"
    );
    let state = crate::prepare(config).await?;
    let function = crate::app(state).map_request(with_client_address);
    lambda_http::run(function)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))
        .context("the Lambda runtime loop failed")
}

/// Gives a request the caller's address as the server's connection info, so per-client limits
/// (sign-in rate limits) see the caller rather than one shared unknown address. API Gateway
/// sets `sourceIp` itself from the connection it accepted, so it is not the client's claim.
fn with_client_address(mut request: lambda_http::Request) -> lambda_http::Request {
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            context.http.source_ip.as_deref().and_then(|ip| ip.parse::<IpAddr>().ok())
        }
        _ => None,
    };
    if let Some(ip) = ip {
        request.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip, 0)));
    }
    request
}
