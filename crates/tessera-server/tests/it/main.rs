//! End-to-end tests of the real `tessera-server` binary.

mod database;
mod ratelimit;
mod support;
