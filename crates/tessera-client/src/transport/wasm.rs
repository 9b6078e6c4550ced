//! The browser's `fetch`, with `credentials: "include"` (the browser keeps the cookies).

use std::time::Duration;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, Request, RequestCredentials, RequestInit, Response};

use super::{HttpRequest, HttpResponse, Method};
use crate::error::ClientError;

#[derive(Debug, Clone)]
pub(crate) struct Transport {
    timeout: Option<Duration>,
    max_body: usize,
}

impl Transport {
    pub(crate) fn new(timeout: Option<Duration>, max_body: usize) -> Self {
        Self { timeout, max_body }
    }

    pub(crate) async fn send(&self, req: HttpRequest) -> Result<HttpResponse, ClientError> {
        let url = req.url;
        let network = |e: JsValue| {
            if js_error_name(&e).as_deref() == Some("TimeoutError") {
                ClientError::Timeout { url: url.clone() }
            } else {
                ClientError::Network {
                    url: url.clone(),
                    message: js_error_text(&e),
                }
            }
        };
        let init = RequestInit::new();
        init.set_method(match req.method {
            Method::Get => "GET",
            Method::Post => "POST",
        });
        init.set_credentials(RequestCredentials::Include);
        let headers = Headers::new().map_err(network)?;
        headers
            .set("Content-Type", req.content_type)
            .map_err(network)?;
        init.set_headers(&headers);
        if let Some(body) = &req.body {
            init.set_body(&JsValue::from_str(body));
        }
        if let Some(t) = self.timeout {
            let ms = u32::try_from(t.as_millis()).unwrap_or(u32::MAX);
            init.set_signal(Some(&AbortSignal::timeout_with_u32(ms)));
        }
        let request = Request::new_with_str_and_init(&url, &init).map_err(network)?;
        let window = web_sys::window()
            .ok_or_else(|| ClientError::Unsupported("fetch needs a browser window".to_owned()))?;
        let res: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(network)?
            .dyn_into()
            .map_err(network)?;
        let status = res.status();
        let content_type = res.headers().get("content-type").ok().flatten();
        let text = JsFuture::from(res.text().map_err(network)?)
            .await
            .map_err(network)?
            .as_string()
            .unwrap_or_default();
        if text.len() > self.max_body {
            return Err(ClientError::TooLarge {
                url,
                limit: self.max_body,
            });
        }
        Ok(HttpResponse {
            status,
            content_type,
            body: text,
        })
    }
}

fn js_error_name(e: &JsValue) -> Option<String> {
    js_sys::Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
}

fn js_error_text(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.to_string());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}
