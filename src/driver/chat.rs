//! The chat driver: a conversation's outbox (`so.chat({ conversationId, url })`). `send()`
//! writes the message to storage and returns its id at once; the delivery loop sends the
//! conversation's messages one at a time in order, each through the same action machine as
//! `so.action` (kind `chat`, the message id as the idempotency key), so every attempt and every
//! resend after a reload carries the same id and the same bytes. Reply streams reconnect with
//! `Last-Event-ID`. Decisions (order, statuses, echoes, the stream parser) are in
//! `core::chat`.

use crate::platform::invoke;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::action::ActionCell;
use super::action::Shared;
use super::listeners::Listeners;
use crate::core::action::ActionMachine;
use crate::core::chat::{self, Echo, MessageView, SseParser};
use crate::core::error::SendonceError;
use crate::core::events::EventKind;
use crate::core::fingerprint::fingerprint_value;
use crate::core::json::Value;
use crate::core::record::{self, OutboxEntry, OutboxStatus, Record, StoredRequest};
use crate::core::status::{MessageState, StatusCode};
use crate::core::window::ActionKind;
use crate::platform::convert::js_error;
use crate::platform::stream::{self, StreamEnd};
use crate::platform::{self, get, set};

/// The action name chat messages are sent under (in events and records).
const CHAT_ACTION: &str = "chat.message";

/// One conversation's outbox, the messages merged from others and the delivery loop.
pub(crate) struct ChatDriver {
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

impl ChatDriver {
    /// A conversation's outbox, loaded from storage and delivering: undelivered messages are
    /// resent with their ids (over an async adapter, once its records are read), and messages
    /// that stopped `offline` are resent when the page is back online.
    pub(crate) fn start(
        shared: Rc<Shared>,
        conversation_id: String,
        url: String,
    ) -> Rc<ChatDriver> {
        let inner = Rc::new(ChatDriver {
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
        inner
    }
}

impl ChatDriver {
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

    /// The messages as shown: `[{ id, text, status, code, statusText, at }]`.
    pub(crate) fn messages(&self) -> Array {
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
        let _ = invoke(
            &add,
            &platform::global(),
            &[&JsValue::from_str("online"), cb.as_ref().unchecked_ref()],
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
                if this.shared.disposed.get() {
                    // Ended by `dispose()`, not answered: the message stays `sending` in the
                    // outbox, and the next page or process sends it with its id.
                    break;
                }
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
            // Stored without its URL's secrets: the live chat's URL gives them back.
            url: crate::core::url::live_url(&entry.url, &self.url),
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
        let cell = ActionCell::adopt(&self.shared, ActionMachine::new(cfg, platform::now_ms()));
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

/// What the bindings call: the chat's methods, their arguments already converted.
impl ChatDriver {
    /// The conversation id.
    pub(crate) fn conversation_id(&self) -> &str {
        &self.conversation_id
    }

    /// The instance this chat belongs to.
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Writes a new message (its `text` and `extra` checked) to the outbox and storage, shows
    /// it as `sending` and starts the delivery loop. The new message id.
    pub(crate) fn send(
        self: &Rc<Self>,
        text: String,
        extra: Value,
    ) -> Result<String, SendonceError> {
        let id = self.shared.new_key()?;
        let entry = OutboxEntry {
            conversation_id: self.conversation_id.clone(),
            id: id.clone(),
            seq: chat::next_seq(&self.outbox.borrow()),
            text,
            extra,
            status: OutboxStatus::Sending,
            code: None,
            at: platform::now_ms(),
            url: self.url.clone(),
        };
        self.shared
            .emit(self.shared.event(EventKind::ActionNew, &id, CHAT_ACTION));
        self.shared.write(&Record::Outbox(entry.clone()));
        self.outbox.borrow_mut().push(entry);
        self.notify();
        self.pump();
        Ok(id.as_str().to_string())
    }

    /// Merges a server message with `id` (`value` is the whole message): the echo of our own
    /// message marks it delivered, somebody else's is shown once.
    pub(crate) fn receive(&self, id: String, value: &Value) {
        let inbound_ids: Vec<String> = self.inbound.borrow().iter().map(|m| m.id.clone()).collect();
        match chat::merge_echo(&self.outbox.borrow(), &inbound_ids, &id) {
            Echo::Own(_) => {}
            Echo::Known => return,
            Echo::Foreign => {
                let text = value
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                self.inbound.borrow_mut().push(MessageView {
                    id,
                    text,
                    status: OutboxStatus::Delivered,
                    code: None,
                    at: platform::now_ms(),
                });
                self.notify();
                return;
            }
        }
        self.update(&id, |e| {
            e.status = OutboxStatus::Delivered;
            e.code = None;
        });
    }

    /// Sends a message in `error` again, with the same id; false if there is no such message
    /// in error.
    pub(crate) fn retry(self: &Rc<Self>, id: &str) -> bool {
        let retried = self.update(id, |e| {
            if e.status == OutboxStatus::Error {
                e.status = OutboxStatus::Sending;
                e.code = None;
            }
        });
        self.pump();
        retried
    }

    /// Removes a message from the outbox and from storage; false if there was none.
    pub(crate) fn discard(&self, id: &str) -> bool {
        let removed = {
            let mut outbox = self.outbox.borrow_mut();
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
            return false;
        };
        self.error_texts.borrow_mut().retain(|(m, _)| *m != id);
        let ns = &self.shared.ns;
        self.shared
            .store
            .delete(&record::outbox_key(ns, &self.conversation_id, seq));
        self.notify();
        true
    }

    /// Calls `callback(messages)` now and on every change; returns the function that stops it.
    pub(crate) fn on_change(&self, callback: Function) -> Function {
        let off = self.listeners.subscribe(callback.clone());
        // A callback that throws must not stop delivery (nor this call).
        let _ = invoke(&callback, &JsValue::NULL, &[&self.messages()]);
        off
    }

    /// Reads the reply stream of message `id` from `url`, calling `on_chunk` for every piece
    /// and reconnecting after a drop (`core::chat::reconnect_delay`); a Promise of the whole
    /// reply text.
    pub(crate) fn stream_reply(
        &self,
        id: String,
        url: String,
        on_chunk: Option<Function>,
    ) -> Promise {
        let shared = self.shared.clone();
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
                        let _ = invoke(f, &JsValue::NULL, &[&o]);
                    }
                };
                let end = stream::read_once(&shared.fetch, &url, &mut parser, &mut on_event).await;
                match end {
                    Ok(StreamEnd::Done) => return Ok(JsValue::from_str(&text)),
                    Ok(StreamEnd::Dropped) => {
                        reconnects += 1;
                        let Some(ms) = chat::reconnect_delay(reconnects) else {
                            return Err(js_error(&SendonceError::Network(
                                "the reply stream kept breaking; gave up".into(),
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
                    Err(e) => return Err(js_error(&e)),
                }
            }
        })
    }
}
