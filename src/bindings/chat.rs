//! `so.chat({ conversationId, url })`: a chat outbox. `send()` writes the message to storage
//! and returns its id at once; a driver delivers the conversation's messages one at a time in
//! order, each through the same action machine as `so.action` (kind `chat`, the message id as
//! the idempotency key), so every attempt and every resend after a reload carries the same id
//! and the same bytes. Decisions (order, statuses, echoes, the stream parser) are in
//! `core::chat`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::convert::{
    arg, callback, js, js_error, opt_string, required_callback, string_arg, to_json, to_value,
    url_arg, ExtraArg, OnChunkArg,
};
use super::listeners::Listeners;
use super::sendonce::{Sendonce, Shared};
use crate::core::action::ActionMachine;
use crate::core::chat::{self, Echo, MessageView, SseParser};
use crate::core::error::SendonceError;
use crate::core::events::EventKind;
use crate::core::fingerprint::fingerprint_value;
use crate::core::json::Value;
use crate::core::record::{self, OutboxEntry, OutboxStatus, Record, StoredRequest};
use crate::core::status::{MessageState, StatusCode};
use crate::core::window::ActionKind;
use crate::platform::stream::{self, StreamEnd};
use crate::platform::{self, get, set};

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

/// The action name chat messages are sent under (in events and records).
const CHAT_ACTION: &str = "chat.message";

struct ChatInner {
    shared: Rc<Shared>,
    conversation_id: String,
    url: String,
    /// The outbox, in `seq` order.
    outbox: RefCell<Vec<OutboxEntry>>,
    /// Messages from others merged with `receive()`, shown but never stored.
    inbound: RefCell<Vec<MessageView>>,
    listeners: Listeners,
    /// True while the delivery loop runs (one message in flight per conversation).
    pumping: Cell<bool>,
    /// The `online` listener, kept alive with the chat (it holds only a weak reference).
    online: RefCell<Option<Closure<dyn FnMut()>>>,
    /// The status text a message's send ended with (it may carry the server's reason), by
    /// message id; kept in memory: after a reload a bubble shows the text of its code.
    error_texts: RefCell<Vec<(String, String)>>,
}

/// A chat outbox for one conversation. Messages are `{ id, text, status, code, at }` with
/// `status` one of `"sending"`, `"delivered"`, `"error"` (and `code` the reason of an error).
#[wasm_bindgen]
pub struct Chat {
    inner: Rc<ChatInner>,
}

pub(crate) fn create(so: &Sendonce, options: &JsValue) -> Result<Chat, SendonceError> {
    let (shared, o, conversation_id) = so.conversation_options(options)?;
    super::options::reject_unknown(&o, "", crate::core::options::CHAT_OPTIONS)?;
    let url = opt_string(&o, "url")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| SendonceError::option("url", "is required (where messages are POSTed)"))?;
    let inner = Rc::new(ChatInner {
        shared,
        conversation_id,
        url,
        outbox: RefCell::new(Vec::new()),
        inbound: RefCell::new(Vec::new()),
        listeners: Listeners::default(),
        pumping: Cell::new(false),
        online: RefCell::new(None),
        error_texts: RefCell::new(Vec::new()),
    });
    inner.load();
    inner.listen_online();
    if inner.shared.store.is_adapter() {
        // An async adapter: read its records first, then resume.
        let this = inner.clone();
        let prefix = record::outbox_prefix(&this.shared.ns, &this.conversation_id);
        crate::platform::spawn(async move {
            let _ = this.shared.store.load_adapter(&prefix).await;
            this.load();
            this.notify();
            this.pump();
        });
    } else {
        inner.pump();
    }
    Ok(Chat { inner })
}

impl ChatInner {
    /// Reads the conversation's outbox from storage (after a reload: the undelivered messages
    /// are resent with their ids).
    fn load(&self) {
        let prefix = record::outbox_prefix(&self.shared.ns, &self.conversation_id);
        let mut entries: Vec<OutboxEntry> = self
            .shared
            .store
            .keys(&prefix)
            .iter()
            .filter_map(|k| match self.shared.read(k) {
                Some(Record::Outbox(e)) if e.conversation_id == self.conversation_id => Some(e),
                _ => None,
            })
            .collect();
        chat::sort_outbox(&mut entries);
        *self.outbox.borrow_mut() = entries;
    }

    fn messages(&self) -> Array {
        let view = chat::view(&self.outbox.borrow(), &self.inbound.borrow());
        view.iter()
            .map(|m| {
                let o = Object::new();
                set(&o, "id", &JsValue::from_str(&m.id));
                set(&o, "text", &JsValue::from_str(&m.text));
                set(&o, "status", &JsValue::from_str(m.status.as_str()));
                let code = match &m.code {
                    Some(c) => JsValue::from_str(c),
                    None => JsValue::NULL,
                };
                set(&o, "code", &code);
                set(&o, "statusText", &JsValue::from_str(&self.status_text(m)));
                set(&o, "at", &JsValue::from_f64(m.at as f64));
                JsValue::from(o)
            })
            .collect()
    }

    /// The bubble's text for `m` (see `Messages::message_text`).
    fn status_text(&self, m: &MessageView) -> String {
        let state = match m.status {
            OutboxStatus::Sending => MessageState::Sending,
            OutboxStatus::Delivered => MessageState::Delivered,
            OutboxStatus::Error => {
                let kept = self.error_texts.borrow();
                if let Some((_, text)) = kept.iter().find(|(id, _)| *id == m.id) {
                    return text.clone();
                }
                MessageState::Error(
                    m.code
                        .as_deref()
                        .and_then(StatusCode::parse)
                        .unwrap_or(StatusCode::Failed),
                )
            }
        };
        self.shared.messages.message_text(state, None)
    }

    fn notify(&self) {
        self.listeners.call(&self.messages());
    }

    /// Updates one entry (if it is still in the outbox), stores it and tells the listeners.
    fn update(&self, id: &str, change: impl FnOnce(&mut OutboxEntry)) -> bool {
        let updated = {
            let mut outbox = self.outbox.borrow_mut();
            match outbox.iter_mut().find(|e| e.id.as_str() == id) {
                Some(e) => {
                    change(e);
                    Some(e.clone())
                }
                None => None,
            }
        };
        match updated {
            Some(e) => {
                self.shared.write(&Record::Outbox(e));
                self.notify();
                true
            }
            None => false,
        }
    }

    /// Back online (pages only: Node has no `online` event): messages that stopped as
    /// `offline` are resent with their ids, in order.
    fn listen_online(self: &Rc<Self>) {
        let Ok(add) = get(&platform::global(), "addEventListener").dyn_into::<Function>() else {
            return;
        };
        let weak = Rc::downgrade(self);
        let cb = Closure::<dyn FnMut()>::new(move || {
            let Some(this) = weak.upgrade() else { return };
            let offline: Vec<String> = this
                .outbox
                .borrow()
                .iter()
                .filter(|e| e.status == OutboxStatus::Error && e.code.as_deref() == Some("offline"))
                .map(|e| e.id.as_str().to_string())
                .collect();
            for id in offline {
                this.update(&id, |e| {
                    e.status = OutboxStatus::Sending;
                    e.code = None;
                });
            }
            this.pump();
        });
        let _ = add.call2(
            &platform::global(),
            &JsValue::from_str("online"),
            cb.as_ref().unchecked_ref(),
        );
        *self.online.borrow_mut() = Some(cb);
    }

    /// Starts the delivery loop unless it runs: one message in flight, in `seq` order.
    fn pump(self: &Rc<Self>) {
        if self.pumping.replace(true) {
            return;
        }
        let this = self.clone();
        crate::platform::spawn(async move {
            loop {
                if this.shared.disposed.get() {
                    break;
                }
                let next = chat::next_to_send(&this.outbox.borrow()).cloned();
                let Some(entry) = next else { break };
                let code = this.deliver(&entry).await;
                let (status, code) = chat::status_after(code);
                this.update(entry.id.as_str(), |e| {
                    if e.status == OutboxStatus::Sending {
                        e.status = status;
                        e.code = code;
                    }
                });
                // The outbox entry is the message's record (a retry starts from it); the
                // action record would only show up again in `so.pending()`.
                this.shared
                    .store
                    .delete(&record::action_key(&this.shared.ns, &entry.id));
            }
            this.pumping.set(false);
        });
    }

    /// Sends one message through an action machine keyed by its id; the final status code.
    async fn deliver(&self, entry: &OutboxEntry) -> StatusCode {
        let body = chat::message_body(entry);
        let request = StoredRequest {
            url: entry.url.clone(),
            method: "POST".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(body.to_json()),
            ..Default::default()
        };
        let cfg = self.shared.config(
            entry.id.clone(),
            CHAT_ACTION,
            ActionKind::Chat,
            fingerprint_value(&body, &[]),
            self.shared.windows.chat,
        );
        let cell = self
            .shared
            .adopt(ActionMachine::new(cfg, platform::now_ms()));
        let reply = JsFuture::from(cell.send_promise(Some(request))).await;
        let code = reply
            .ok()
            .and_then(|r| get(&r, "outcome").as_string())
            .and_then(|c| StatusCode::parse(&c))
            .unwrap_or(StatusCode::Failed);
        // The action's own status text carries the server's reason where the app shows it.
        let mut texts = self.error_texts.borrow_mut();
        texts.retain(|(id, _)| id != entry.id.as_str());
        if code == StatusCode::Rejected {
            if let Some(text) = get(&cell.status(), "text").as_string() {
                texts.push((entry.id.as_str().to_string(), text));
            }
        }
        code
    }
}

#[wasm_bindgen]
impl Chat {
    /// The conversation id.
    #[wasm_bindgen(getter, js_name = conversationId)]
    pub fn conversation_id(&self) -> String {
        self.inner.conversation_id.clone()
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
        let retried = self.inner.update(&id, |e| {
            if e.status == OutboxStatus::Error {
                e.status = OutboxStatus::Sending;
                e.code = None;
            }
        });
        self.inner.pump();
        Ok(retried)
    }

    /// Removes a message from the outbox (and from storage). A send already in flight still
    /// completes on the server; its result is then ignored. Returns false if there was none.
    pub fn discard(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<bool, JsValue> {
        let id = js(message_id(&id))?;
        let id = id.as_str();
        let removed = {
            let mut outbox = self.inner.outbox.borrow_mut();
            let mut gone = None;
            outbox.retain(|e| {
                if e.id.as_str() == id {
                    gone = Some(e.seq);
                    false
                } else {
                    true
                }
            });
            gone
        };
        let Some(seq) = removed else {
            return Ok(false);
        };
        self.inner
            .error_texts
            .borrow_mut()
            .retain(|(m, _)| *m != id);
        let ns = &self.inner.shared.ns;
        self.inner
            .shared
            .store
            .delete(&record::outbox_key(ns, &self.inner.conversation_id, seq));
        self.inner.notify();
        Ok(true)
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
        let off = self.inner.listeners.subscribe(callback.clone());
        // A callback that throws must not stop delivery (nor this call).
        let _ = callback.call1(&JsValue::NULL, &self.inner.messages());
        Ok(off)
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
        let (id, url, on_chunk) = match args {
            Ok(a) => a,
            Err(e) => return Promise::reject(&js_error(&e)),
        };
        let shared = self.inner.shared.clone();
        crate::platform::promise(async move {
            let mut parser = SseParser::new(None);
            let mut text = String::new();
            let mut reconnects = 0u32;
            loop {
                let mut on_event = |e: &chat::SseEvent| {
                    text.push_str(&e.data);
                    if let Some(f) = &on_chunk {
                        let o = Object::new();
                        set(
                            &o,
                            "id",
                            &e.id.as_deref().map_or(JsValue::NULL, JsValue::from_str),
                        );
                        set(&o, "data", &JsValue::from_str(&e.data));
                        set(&o, "text", &JsValue::from_str(&text));
                        let _ = f.call1(&JsValue::NULL, &o);
                    }
                };
                let end = stream::read_once(&shared.fetch, &url, &mut parser, &mut on_event).await;
                match end {
                    Ok(StreamEnd::Done) => return Ok(JsValue::from_str(&text)),
                    Ok(StreamEnd::Dropped) => {
                        reconnects += 1;
                        let Some(ms) = chat::reconnect_delay(reconnects) else {
                            return Err(js_error(&SendonceError::option(
                                "streamReply",
                                "the reply stream kept breaking; gave up",
                            )));
                        };
                        shared.emit(
                            crate::core::events::Event::new(EventKind::SendRetry)
                                .with_key(&id)
                                .with_action("chat.reply")
                                .with_attempt(reconnects)
                                .with_ms(ms),
                        );
                        platform::sleep(ms).await;
                    }
                    Err(reason) => {
                        return Err(js_error(&SendonceError::option("streamReply", reason)))
                    }
                }
            }
        })
    }
}

/// A message id argument: a string of at most 255 characters.
fn message_id(id: &JsValue) -> Result<String, SendonceError> {
    string_arg(id, "id", 255)
}

impl Chat {
    fn send_inner(&self, text: &JsValue, extra: &JsValue) -> Result<String, SendonceError> {
        let inner = &self.inner;
        if inner.shared.disposed.get() {
            return Err(SendonceError::Disposed("this Sendonce".into()));
        }
        let max = inner.shared.max_payload_bytes;
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
        let id = inner.shared.new_key()?;
        let entry = OutboxEntry {
            conversation_id: inner.conversation_id.clone(),
            id: id.clone(),
            seq: chat::next_seq(&inner.outbox.borrow()),
            text,
            extra,
            status: OutboxStatus::Sending,
            code: None,
            at: platform::now_ms(),
            url: inner.url.clone(),
        };
        inner
            .shared
            .emit(inner.shared.event(EventKind::ActionNew, &id, CHAT_ACTION));
        inner.shared.write(&Record::Outbox(entry.clone()));
        inner.outbox.borrow_mut().push(entry);
        inner.notify();
        inner.pump();
        Ok(id.as_str().to_string())
    }

    fn receive_inner(&self, message: &JsValue) -> Result<(), SendonceError> {
        let inner = &self.inner;
        let value = to_value(
            message,
            "the server message",
            inner.shared.max_payload_bytes,
        )?;
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| SendonceError::option("message", "needs a string id"))?
            .to_string();
        let inbound_ids: Vec<String> = inner
            .inbound
            .borrow()
            .iter()
            .map(|m| m.id.clone())
            .collect();
        match chat::merge_echo(&inner.outbox.borrow(), &inbound_ids, &id) {
            Echo::Own(_) => {}
            Echo::Known => return Ok(()),
            Echo::Foreign => {
                let text = value
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                inner.inbound.borrow_mut().push(MessageView {
                    id,
                    text,
                    status: OutboxStatus::Delivered,
                    code: None,
                    at: platform::now_ms(),
                });
                inner.notify();
                return Ok(());
            }
        }
        inner.update(&id, |e| {
            e.status = OutboxStatus::Delivered;
            e.code = None;
        });
        Ok(())
    }
}
