//! The conformance suite against the in-memory adapter of tessera-core.

tessera_adapter_tests::conformance_suite!(async { tessera_core::MemoryAdapter::new() });
