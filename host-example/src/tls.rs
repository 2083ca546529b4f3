//! HTTPS served directly: the certificate chain and private key from PEM files, read again on SIGHUP so that
//! a renewed certificate is served to new connections without a restart.

use anyhow::{bail, Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

/// The certificate being served and where it comes from.
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<ServerConfig>>,
}

impl Certificates {
    /// Reads both files; an error names the file at fault.
    pub fn load(cert: &Path, key: &Path) -> Result<Certificates> {
        let config = server_config(cert, key)?;
        Ok(Certificates { cert: cert.to_path_buf(), key: key.to_path_buf(), current: RwLock::new(Arc::new(config)) })
    }

    /// A handshake with the certificate loaded last.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current.read().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Reads the files again; on error the certificate served stays the one loaded before.
    pub fn reload(&self) -> Result<()> {
        let config = server_config(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(())
    }

    /// Reloads on every SIGHUP, logging the outcome, until the process ends.
    pub async fn reload_on_hangup(self: Arc<Self>) {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => return tracing::warn!("SIGHUP will not reload the TLS certificate: {e}"),
        };
        while hangups.recv().await.is_some() {
            match self.reload() {
                Ok(()) => tracing::info!("TLS certificate reloaded from {}", self.cert.display()),
                Err(e) => tracing::error!("TLS certificate not reloaded, the previous one is still served: {e:#}"),
            }
        }
    }
}

fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the TLS certificate {}", cert.display()))?;
    if chain.is_empty() {
        bail!("the TLS certificate file {} holds no PEM CERTIFICATE block", cert.display());
    }
    let key_der =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading the TLS private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .with_context(|| format!("the TLS certificate {} with the key {}", cert.display(), key.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
