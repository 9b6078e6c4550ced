//! One HTTP exchange, by target: reqwest natively, `fetch` in the browser.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::Transport;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::Transport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

#[derive(Debug)]
pub(crate) struct HttpRequest {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) content_type: &'static str,
    pub(crate) body: Option<String>,
}

/// An answer, read whole (up to the size limit). A body that is not UTF-8 is decoded lossily
/// (it then fails JSON parsing and is reported as not JSON).
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}
