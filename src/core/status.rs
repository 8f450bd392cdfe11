//! Status codes and the calm texts a person reads, in four built-in locales, overridable per
//! code.

use crate::core::error::SendonceError;
use crate::core::text::quoted;

/// The state of an action as a person sees it. The code is stable; the text is the locale's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// Before the first send, or after a send cancelled by its caller's signal (the key and
    /// request are kept; nothing is under way).
    Idle,
    /// Request in flight (first attempt).
    Sending,
    /// Waiting to retry, or retrying, with the same key.
    Retrying,
    /// 202, or 409 "still in progress": the server has it and is working.
    Accepted,
    /// Another tab holds this key's lock.
    Elsewhere,
    /// First success.
    Done,
    /// A replay from the server, or a repeat answered locally within the window.
    AlreadyReceived,
    /// Network retries exhausted, or the browser is offline.
    Offline,
    /// 422 / 417: the key was reused with other data.
    Changed,
    /// Another 4xx: not retried; the draft is kept.
    Rejected,
    /// 5xx exhausted, or a server-cached (replayed) 5xx.
    Failed,
    /// An action marked `{ idempotent: false }` (a target that honours no key) timed out or
    /// lost its connection after the request may have left: it is not retried blindly, and a
    /// person or the handler decides.
    Uncertain,
    /// A form's unfinished submission, restored after a reload, needs what is never stored
    /// (its files, a password): it waits, unsent, with its key, and the text names what to add
    /// again (`{reason}`: "receipt.pdf, password").
    Incomplete,
}

/// Every status code, in the order of the SPEC's table.
pub const ALL_CODES: [StatusCode; 13] = [
    StatusCode::Idle,
    StatusCode::Sending,
    StatusCode::Retrying,
    StatusCode::Accepted,
    StatusCode::Elsewhere,
    StatusCode::Done,
    StatusCode::AlreadyReceived,
    StatusCode::Offline,
    StatusCode::Changed,
    StatusCode::Rejected,
    StatusCode::Failed,
    StatusCode::Uncertain,
    StatusCode::Incomplete,
];

impl StatusCode {
    /// The stable code: `"idle"`, `"sending"`, ..., `"already_received"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Idle => "idle",
            StatusCode::Sending => "sending",
            StatusCode::Retrying => "retrying",
            StatusCode::Accepted => "accepted",
            StatusCode::Elsewhere => "elsewhere",
            StatusCode::Done => "done",
            StatusCode::AlreadyReceived => "already_received",
            StatusCode::Offline => "offline",
            StatusCode::Changed => "changed",
            StatusCode::Rejected => "rejected",
            StatusCode::Failed => "failed",
            StatusCode::Uncertain => "uncertain",
            StatusCode::Incomplete => "incomplete",
        }
    }

    /// Reads a code written by [`StatusCode::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        ALL_CODES.into_iter().find(|c| c.as_str() == s)
    }

    /// True once the action has an answer and nothing more will be sent for it on its own:
    /// done, already received, changed, rejected, failed or uncertain (only the user's
    /// `retry()` sends an uncertain action again).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            StatusCode::Done
                | StatusCode::AlreadyReceived
                | StatusCode::Changed
                | StatusCode::Rejected
                | StatusCode::Failed
                | StatusCode::Uncertain
        )
    }

    /// True when the server confirmed the action (done or already received).
    pub fn is_confirmed(self) -> bool {
        matches!(self, StatusCode::Done | StatusCode::AlreadyReceived)
    }

    /// True while the action is under way: a request in flight or a retry waiting, the server
    /// working on it, or another tab sending it. Not `offline` (paused until the network
    /// returns) nor `idle` or `incomplete` (waiting for the user).
    pub fn is_under_way(self) -> bool {
        matches!(
            self,
            StatusCode::Sending
                | StatusCode::Retrying
                | StatusCode::Accepted
                | StatusCode::Elsewhere
        )
    }
}

/// A built-in locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// English (the fallback).
    #[default]
    En,
    /// Brazilian Portuguese.
    PtBr,
    /// Spanish.
    Es,
    /// Russian.
    Ru,
}

impl Locale {
    /// Reads a locale tag; the language part decides (`"pt"` and `"pt-BR"` are Portuguese,
    /// `"es-MX"` Spanish). Unknown tags fall back to English, as the SPEC says.
    pub fn parse(tag: &str) -> Locale {
        let lang = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match lang.as_str() {
            "pt" => Locale::PtBr,
            "es" => Locale::Es,
            "ru" => Locale::Ru,
            _ => Locale::En,
        }
    }

    /// The default text of `code` in this locale. `{reason}` is replaced by [`Messages::text`].
    pub fn text(self, code: StatusCode) -> &'static str {
        use StatusCode::*;
        match self {
            Locale::En => match code {
                Idle => "",
                Sending | Retrying => "Sending...",
                Accepted => "Request accepted, waiting for a response",
                Elsewhere => "Already sending from another tab",
                Done => "Sent",
                AlreadyReceived => "We already received this request",
                Offline => "Connection lost. Retry?",
                Changed => "This request changed. Send it as a new one?",
                Rejected => "Could not send: {reason}",
                Failed => "Something went wrong. Retry?",
                Uncertain => "We are not sure this was sent. Check before sending again.",
                Incomplete => "To finish sending, add again: {reason}",
            },
            Locale::PtBr => match code {
                Idle => "",
                Sending | Retrying => "Enviando...",
                Accepted => "Pedido aceito, aguardando resposta",
                Elsewhere => "Já está sendo enviado em outra aba",
                Done => "Enviado",
                AlreadyReceived => "Já recebemos este pedido",
                Offline => "Conexão perdida. Tentar de novo?",
                Changed => "Este pedido mudou. Enviar como um novo?",
                Rejected => "Não foi possível enviar: {reason}",
                Failed => "Algo deu errado. Tentar de novo?",
                Uncertain => "Não temos certeza de que isto foi enviado. Verifique antes de enviar de novo.",
                Incomplete => "Para concluir o envio, adicione de novo: {reason}",
            },
            Locale::Es => match code {
                Idle => "",
                Sending | Retrying => "Enviando...",
                Accepted => "Solicitud aceptada, esperando respuesta",
                Elsewhere => "Ya se está enviando desde otra pestaña",
                Done => "Enviado",
                AlreadyReceived => "Ya recibimos esta solicitud",
                Offline => "Se perdió la conexión. ¿Reintentar?",
                Changed => "Esta solicitud cambió. ¿Enviarla como nueva?",
                Rejected => "No se pudo enviar: {reason}",
                Failed => "Algo salió mal. ¿Reintentar?",
                Uncertain => "No estamos seguros de que esto se haya enviado. Compruébalo antes de volver a enviarlo.",
                Incomplete => "Para terminar el envío, vuelve a añadir: {reason}",
            },
            Locale::Ru => match code {
                Idle => "",
                Sending | Retrying => "Отправка...",
                Accepted => "Запрос принят, ждём ответа",
                Elsewhere => "Уже отправляется из другой вкладки",
                Done => "Отправлено",
                AlreadyReceived => "Мы уже получили этот запрос",
                Offline => "Связь потеряна. Повторить?",
                Changed => "Запрос изменился. Отправить как новый?",
                Rejected => "Не удалось отправить: {reason}",
                Failed => "Что-то пошло не так. Повторить?",
                Uncertain => "Мы не уверены, что это отправлено. Проверьте, прежде чем отправлять снова.",
                Incomplete => "Чтобы завершить отправку, добавьте снова: {reason}",
            },
        }
    }
}

impl Locale {
    /// The label of the retry button that a status element shows next to a status that offers
    /// a retry ([`StatusCode::offers_retry`]).
    pub fn retry_label(self) -> &'static str {
        match self {
            Locale::En => "Retry",
            Locale::PtBr => "Tentar de novo",
            Locale::Es => "Reintentar",
            Locale::Ru => "Повторить",
        }
    }
}

impl StatusCode {
    /// True for statuses whose text asks "Retry?": the user can send again with the same key
    /// (`offline`, `failed`).
    pub fn offers_retry(self) -> bool {
        matches!(self, StatusCode::Offline | StatusCode::Failed)
    }
}

/// Status texts: a locale plus per-code overrides (option `messages`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Messages {
    locale: Locale,
    overrides: Vec<(StatusCode, String)>,
    /// Put the server's own words (its English `detail`, say) into `rejected`; off by default,
    /// so a person reads the calm text of their locale (option `showServerReason`).
    show_server_reason: bool,
}

impl Messages {
    /// The locale of these texts.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// Texts of `locale` with no overrides.
    pub fn new(locale: Locale) -> Self {
        Messages {
            locale,
            overrides: Vec::new(),
            show_server_reason: false,
        }
    }

    /// Replaces the text of the status named `code`; unknown codes are a clear error.
    pub fn set(&mut self, code: &str, text: &str) -> Result<(), SendonceError> {
        let c = StatusCode::parse(code).ok_or_else(|| {
            let known = ALL_CODES.map(StatusCode::as_str);
            let hint = match crate::core::options::suggest(code, &known) {
                Some(s) => format!("did you mean {s}?"),
                None => format!("known: {}", known.join(", ")),
            };
            SendonceError::option(
                "messages",
                format!("unknown status code {}; {hint}", quoted(code, '"')),
            )
        })?;
        self.overrides.retain(|(k, _)| *k != c);
        self.overrides.push((c, text.to_string()));
        Ok(())
    }

    /// Shows the server's reason in `rejected` texts (`showServerReason: true`). A server's
    /// `detail` is written for developers, usually in English, whatever the page's locale, so
    /// it is only shown when the app asks for it.
    pub fn set_show_server_reason(&mut self, on: bool) {
        self.show_server_reason = on;
    }

    /// The text for `code`, with `{reason}` replaced by `reason` when the app shows server
    /// reasons, otherwise (or when absent) by the locale's own words.
    ///
    /// ```
    /// use sendonce::core::status::{Locale, Messages, StatusCode};
    /// let mut m = Messages::new(Locale::parse("en"));
    /// assert_eq!(m.text(StatusCode::Rejected, Some("Email is required")), "Could not send: the server refused the request");
    /// m.set_show_server_reason(true);
    /// assert_eq!(m.text(StatusCode::Rejected, Some("Email is required")), "Could not send: Email is required");
    /// m.set("done", "Order placed").unwrap();
    /// assert_eq!(m.text(StatusCode::Done, None), "Order placed");
    /// ```
    pub fn text(&self, code: StatusCode, reason: Option<&str>) -> String {
        let template = self
            .overrides
            .iter()
            .find(|(k, _)| *k == code)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| self.locale.text(code));
        if crate::core::text::contains(template, "{reason}") {
            if code == StatusCode::Incomplete {
                // Never a server's words: what to add again, named by `incomplete_text`.
                return crate::core::text::replace(template, "{reason}", self.what_it_needs());
            }
            let reason = reason
                .filter(|r| self.show_server_reason && !r.trim().is_empty())
                .unwrap_or(match self.locale {
                    Locale::En => "the server refused the request",
                    Locale::PtBr => "o servidor recusou o pedido",
                    Locale::Es => "el servidor rechazó la solicitud",
                    Locale::Ru => "сервер отклонил запрос",
                });
            crate::core::text::replace(template, "{reason}", reason)
        } else {
            template.to_string()
        }
    }
}

impl Messages {
    /// The `incomplete` text naming what to add again (`"receipt.pdf, password"`: file and
    /// field names, never values), with the `messages` override applied.
    ///
    /// ```
    /// use sendonce::core::status::{Locale, Messages, StatusCode};
    /// let m = Messages::new(Locale::parse("en"));
    /// assert_eq!(m.incomplete_text("receipt.pdf"), "To finish sending, add again: receipt.pdf");
    /// assert_eq!(m.text(StatusCode::Incomplete, Some("server words")), "To finish sending, add again: the files and passwords it needs");
    /// ```
    pub fn incomplete_text(&self, missing: &str) -> String {
        let template = self
            .overrides
            .iter()
            .find(|(k, _)| *k == StatusCode::Incomplete)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| self.locale.text(StatusCode::Incomplete));
        let missing = if missing.trim().is_empty() {
            self.what_it_needs()
        } else {
            missing
        };
        crate::core::text::replace(template, "{reason}", missing)
    }

    /// The locale's words for what an `incomplete` submission needs, when no names are known.
    fn what_it_needs(&self) -> &'static str {
        match self.locale {
            Locale::En => "the files and passwords it needs",
            Locale::PtBr => "os arquivos e senhas de que precisa",
            Locale::Es => "los archivos y contraseñas que necesita",
            Locale::Ru => "нужные файлы и пароли",
        }
    }
}

/// A status as the user sees it: a stable code and the text to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The stable code.
    pub code: StatusCode,
    /// The text in the configured locale, with overrides applied.
    pub text: String,
}

/// Where a chat message stands, as its bubble says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// Not confirmed yet (first attempt, retries, waiting for the network).
    Sending,
    /// The server has it.
    Delivered,
    /// It stopped with this status code; the user may retry or discard it.
    Error(StatusCode),
}

impl Messages {
    /// The calm text a chat bubble shows under its message, in the locale, with the status
    /// overrides of `messages` applied: `sending` and an error use the texts of their status
    /// codes (`offline`: "Connection lost. Retry?"), `delivered` has its own word.
    ///
    /// ```
    /// use sendonce::core::status::{Locale, Messages, MessageState, StatusCode};
    /// let m = Messages::new(Locale::parse("es"));
    /// assert_eq!(m.message_text(MessageState::Delivered, None), "Entregado");
    /// assert_eq!(m.message_text(MessageState::Error(StatusCode::Offline), None), "Se perdió la conexión. ¿Reintentar?");
    /// ```
    pub fn message_text(&self, state: MessageState, reason: Option<&str>) -> String {
        match state {
            MessageState::Sending => self.text(StatusCode::Sending, None),
            MessageState::Delivered => match self.locale {
                Locale::En => "Delivered",
                Locale::PtBr => "Entregue",
                Locale::Es => "Entregado",
                Locale::Ru => "Доставлено",
            }
            .to_string(),
            MessageState::Error(code) => {
                // An error always says what happened: a code that means "not yet" reads as
                // "failed".
                if matches!(
                    code,
                    StatusCode::Idle | StatusCode::Sending | StatusCode::Retrying
                ) {
                    self.text(StatusCode::Failed, None)
                } else {
                    self.text(code, reason)
                }
            }
        }
    }
}
