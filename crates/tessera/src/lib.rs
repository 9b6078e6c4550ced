//! Tessera engine (in progress).
mod random;
pub use random::{OsRandom, RandomSource};
