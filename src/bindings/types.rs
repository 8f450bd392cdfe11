//! TypeScript types for the JS API, precise where generated ones would say `any`.
