//! Integration tests of the engine, through `Auth::handle`.

mod hostile;
mod routes;
mod support;
mod v5;
