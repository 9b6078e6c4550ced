//! End-to-end tests of the real `tessera-server` binary.

mod collation;
mod database;
mod hostile;
mod ratelimit;
mod support;
