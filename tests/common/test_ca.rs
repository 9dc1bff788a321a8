//! A certificate authority made for one test, and the certificates it signs: a server
//! certificate for 127.0.0.1 (the TLS Redis servers of the revocation tests) and a client
//! certificate (mutual TLS). Every key is generated when the test runs and dropped with it;
//! the PEM files a server reads are written to a directory removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and its private key, in PEM.
pub struct Identity {
    pub certificate: String,
    pub key: String,
}

/// A test CA with a server certificate for 127.0.0.1 and a client certificate, both signed by
/// it, written as PEM files into a directory of their own.
pub struct TestCa {
    /// The CA's certificate: what a client trusts.
    pub certificate: String,
    /// The server's certificate (SAN `127.0.0.1` and `localhost`) and key.
    pub server: Identity,
    /// A client certificate (`CN=revocation-test-client`) and key, for mutual TLS.
    pub client: Identity,
    directory: PathBuf,
}

impl TestCa {
    /// A new CA, named `name` (so that two CAs of one test are told apart), and its
    /// certificates.
    pub fn new(name: &str) -> TestCa {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_certificate = ca.self_signed(&ca_key).expect("the CA certificate");
        let issuer = Issuer::new(ca, ca_key);

        let sign = |names: Vec<String>, common_name: &str, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().expect("a leaf key");
            let mut params = CertificateParams::new(names).expect("leaf parameters");
            params
                .distinguished_name
                .push(DnType::CommonName, common_name);
            params.extended_key_usages = vec![usage];
            let certificate = params.signed_by(&key, &issuer).expect("a leaf certificate");
            Identity {
                certificate: certificate.pem(),
                key: key.serialize_pem(),
            }
        };
        let server = sign(
            vec!["127.0.0.1".into(), "localhost".into()],
            "127.0.0.1",
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let client = sign(
            Vec::new(),
            "revocation-test-client",
            ExtendedKeyUsagePurpose::ClientAuth,
        );

        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let directory = std::env::temp_dir().join(format!(
            "rocket-flask-jwt-test-ca-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&directory).expect("a directory for the PEM files");
        let ca = TestCa {
            certificate: ca_certificate.pem(),
            server,
            client,
            directory,
        };
        ca.write("ca.pem", &ca.certificate);
        ca.write("server.pem", &ca.server.certificate);
        ca.write("server.key", &ca.server.key);
        ca
    }

    /// The CA certificate's file.
    pub fn certificate_file(&self) -> PathBuf {
        self.directory.join("ca.pem")
    }

    /// The server certificate's file.
    pub fn server_certificate_file(&self) -> PathBuf {
        self.directory.join("server.pem")
    }

    /// The server key's file.
    pub fn server_key_file(&self) -> PathBuf {
        self.directory.join("server.key")
    }

    /// The directory of the PEM files.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn write(&self, name: &str, pem: &str) {
        std::fs::write(self.directory.join(name), pem).expect("a PEM file written");
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
