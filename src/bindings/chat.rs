//! `so.chat({ conversationId, url })`: the JS object of a chat outbox. Conversion only: the
//! chat driver (`driver::chat`) stores, delivers and streams.

use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::convert::{
    arg, callback, js, js_error, opt_string, required_callback, string_arg, to_json, to_value,
    url_arg, ExtraArg, OnChunkArg,
};
use crate::core::chat;
use crate::core::error::SendonceError;
use crate::core::json::Value;
use crate::driver::action::Shared;
use crate::driver::chat::ChatDriver;

#[wasm_bindgen(typescript_custom_section)]
const CHAT_TYPES: &'static str = r#"
/** Options of `so.chat()`. */
export interface ChatOptions {
  /** The conversation (1..=255 characters, no newline). */
  conversationId: string;
  /** Where messages are POSTed, as `{ id, text, ...extra }` with `Idempotency-Key: id`. */
  url: string;
}

/** Where a chat message stands. */
export type ChatMessageStatus = "sending" | "delivered" | "error";

/** One message as the widget shows it. */
export interface ChatMessage {
  id: string;
  text: string;
  status: ChatMessageStatus;
  /** The status code behind an `error` ("offline", "failed", "rejected", ...), else null. */
  code: StatusCode | null;
  /** A calm text for the bubble in the locale: "Sending...", "Delivered", or the error's
   * status text ("Connection lost. Retry?"). A `rejected` message shows the server's reason
   * only with `showServerReason: true`. */
  statusText: string;
  /** When it was written (ms since the Unix epoch). */
  at: number;
}

/** One piece of a streamed reply. */
export interface ReplyChunk {
  /** The event id (what a reconnect resumes after), or null. */
  id: string | null;
  /** This piece. */
  data: string;
  /** The reply so far. */
  text: string;
}
"#;

/// A chat outbox for one conversation. Messages are `{ id, text, status, code, at }` with
/// `status` one of `"sending"`, `"delivered"`, `"error"` (and `code` the reason of an error).
#[wasm_bindgen]
pub struct Chat {
    inner: Rc<ChatDriver>,
}

/// `so.chat()` with its options object and `conversationId` read (see
/// `Sendonce::conversation_options`).
pub(crate) fn create(
    shared: Rc<Shared>,
    o: JsValue,
    conversation_id: String,
) -> Result<Chat, SendonceError> {
    super::options::reject_unknown(&o, "", crate::core::options::CHAT_OPTIONS)?;
    let url = opt_string(&o, "url")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| SendonceError::option("url", "is required (where messages are POSTed)"))?;
    crate::core::url::check_url(&url, "url")?;
    Ok(Chat {
        inner: ChatDriver::start(shared, conversation_id, url),
    })
}

#[wasm_bindgen]
impl Chat {
    /// The conversation id.
    #[wasm_bindgen(getter, js_name = conversationId)]
    pub fn conversation_id(&self) -> String {
        self.inner.conversation_id().to_string()
    }

    /// Sends `text` (with optional `extra` fields, a JSON object merged into the body
    /// `{ id, text, ...extra }`). Returns the new message id at once; the message is stored
    /// and shown as `sending`, and delivered after the ones before it.
    pub fn send(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
        extra: Option<ExtraArg>,
    ) -> Result<String, JsValue> {
        js(self.send_inner(&text, &arg(extra)))
    }

    /// Merges a message from the server (`{ id, text, ... }`): the echo of our own message marks
    /// it delivered (never a second bubble); somebody else's message is shown once.
    pub fn receive(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "{ id: string; text?: string; [field: string]: unknown }"
        )]
        message: JsValue,
    ) -> Result<(), JsValue> {
        js(self.receive_inner(&message))
    }

    /// Sends a message in `error` again, with the same id. Returns false if there is no such
    /// message in error.
    pub fn retry(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<bool, JsValue> {
        let id = js(message_id(&id))?;
        Ok(self.inner.retry(&id))
    }

    /// Removes a message from the outbox (and from storage). A send already in flight still
    /// completes on the server; its result is then ignored. Returns false if there was none.
    pub fn discard(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<bool, JsValue> {
        let id = js(message_id(&id))?;
        Ok(self.inner.discard(&id))
    }

    /// The messages as shown: `[{ id, text, status, code, at }]`.
    #[wasm_bindgen(getter, unchecked_return_type = "ChatMessage[]")]
    pub fn messages(&self) -> Array {
        self.inner.messages()
    }

    /// Calls `callback(messages)` now and on every change; returns a function that stops it.
    #[wasm_bindgen(js_name = onChange, unchecked_return_type = "() => void")]
    pub fn on_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(messages: ChatMessage[]) => void")]
        callback: JsValue,
    ) -> Result<Function, JsValue> {
        let callback = js(required_callback(callback, "callback"))?;
        Ok(self.inner.on_change(callback))
    }

    /// Reads the reply stream bound to message `id` from `url` (server-sent events) and calls
    /// `onChunk({ id, data, text })` for every piece (`text`: the reply so far). After a drop
    /// it reconnects with `Last-Event-ID`, so no piece is shown twice or lost; it only ever
    /// GETs, so the user's message is never sent again. Resolves with the whole reply text at
    /// `event: done`; rejects with a `SendonceError` when the stream cannot be read.
    #[wasm_bindgen(js_name = streamReply, unchecked_return_type = "Promise<string>")]
    pub fn stream_reply(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string | URL")] url: JsValue,
        #[wasm_bindgen(js_name = onChunk)] on_chunk: Option<OnChunkArg>,
    ) -> Promise {
        let args = message_id(&id).and_then(|id| {
            let url = url_arg(&url)?;
            Ok((id, url, callback(arg(on_chunk), "onChunk")?))
        });
        match args {
            Ok((id, url, on_chunk)) => self.inner.stream_reply(id, url, on_chunk),
            Err(e) => Promise::reject(&js_error(&e)),
        }
    }
}

/// A message id argument: a string of at most 255 characters.
fn message_id(id: &JsValue) -> Result<String, SendonceError> {
    string_arg(id, "id", 255)
}

impl Chat {
    fn send_inner(&self, text: &JsValue, extra: &JsValue) -> Result<String, SendonceError> {
        let shared = self.inner.shared();
        if shared.disposed.get() {
            return Err(SendonceError::Disposed("this Sendonce".into()));
        }
        let max = shared.max_payload_bytes;
        if !text.is_string() {
            return Err(SendonceError::option("text", "must be a string"));
        }
        // The text is part of the payload: its size and Unicode are checked like the rest,
        // before it is copied.
        let text = to_json(text, "the message text", max)?
            .0
            .as_str()
            .unwrap_or_default()
            .to_string();
        let extra = if extra.is_undefined() || extra.is_null() {
            Value::Null
        } else {
            to_value(extra, "extra", max.saturating_sub(text.len()))?
        };
        if !chat::valid_extra(&extra) {
            return Err(SendonceError::option("extra", "must be an object"));
        }
        self.inner.send(text, extra)
    }

    fn receive_inner(&self, message: &JsValue) -> Result<(), SendonceError> {
        let value = to_value(
            message,
            "the server message",
            self.inner.shared().max_payload_bytes,
        )?;
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| SendonceError::option("message", "needs a string id"))?
            .to_string();
        self.inner.receive(id, &value);
        Ok(())
    }
}
