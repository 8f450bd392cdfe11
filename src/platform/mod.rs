//! Web adapters (wasm only): storage, timers, fetch, locks and the DOM.
