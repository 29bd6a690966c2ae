//! Blueprint ids name directories (`channel-store/deployment/<id>/`, `wasm-artifacts/<id>/`), so
//! they follow the path-component rules of `tau_durable::name`.

pub use tau_durable::name::check as check_id;
