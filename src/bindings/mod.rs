//! The `#[wasm_bindgen]` surface: converts JS values, calls the core, turns errors into JS errors.
