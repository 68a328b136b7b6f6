//! The TLS crypto provider for every HTTPS client in the process.
//!
//! reqwest is built with `rustls-no-provider`: its default provider (aws-lc-rs) is a large C library that
//! doubled the project's build time, for one client (the LLM judge). We use rustls' `ring` provider instead,
//! installed once per process before any client is built. Building a reqwest client without a provider
//! installed panics, so every place that builds one calls [`install_crypto_provider`] first.

use std::sync::Once;

/// Install rustls' `ring` provider as the process default, once. Harmless when another part of the
/// process already installed a provider: that one stays.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means a provider is already installed, which is all we need.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_builds_after_install() {
        super::install_crypto_provider();
        super::install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        assert!(reqwest::Client::builder().build().is_ok());
    }
}
