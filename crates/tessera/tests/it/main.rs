//! Integration tests of the engine, through `Auth::handle`.

mod email;
mod hostile;
mod oidc;
mod ratelimit;
mod routes;
mod support;
mod transcripts;
mod v5;
