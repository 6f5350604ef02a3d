//! `crypto/v1/is_certificate_trusted`: a local certificate check, as policy-evaluator's
//! `callback_handler/crypto.rs` does it (no network): the certificate must be within its
//! validity (not after `not_after` when the request gives one, not before its own start), and,
//! when the request gives a chain (intermediates first, root last), chain to that root for code
//! signing. Without a chain the certificate is trusted, as there.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Deserialize;
use serde_json::json;
use webpki::{EndEntityCert, KeyUsage};
use x509_cert::der::Decode;

/// `id-kp-codeSigning` (1.3.6.1.5.5.7.3.3), DER content octets.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

#[derive(Debug, Deserialize)]
struct Certificate {
    encoding: String,
    data: Vec<u8>,
}

#[derive(Debug, Deserialize)]
struct Request {
    cert: Certificate,
    #[serde(default)]
    cert_chain: Option<Vec<Certificate>>,
    #[serde(default)]
    not_after: Option<String>,
}

fn der(certificate: &Certificate) -> Result<CertificateDer<'static>, String> {
    match certificate.encoding.as_str() {
        "Pem" => CertificateDer::from_pem_slice(&certificate.data)
            .map_err(|_| "Certificate PEM data is not valid".to_string()),
        "Der" => Ok(CertificateDer::from(certificate.data.clone())),
        other => Err(format!("unknown certificate encoding {other}")),
    }
}

/// The answer to `payload`: `{"trusted": bool, "reason": "..."}`.
pub fn answer(payload: &[u8]) -> Result<Vec<u8>, String> {
    let request: Request = serde_json::from_slice(payload)
        .map_err(|e| format!("invalid is_certificate_trusted request: {e}"))?;
    let verdict = verify(&request, std::time::SystemTime::now())?;
    let (trusted, reason) = match verdict {
        None => (true, String::new()),
        Some(reason) => (false, reason),
    };
    serde_json::to_vec(&json!({"trusted": trusted, "reason": reason}))
        .map_err(|e| format!("cannot serialize the answer: {e}"))
}

/// `None` when trusted, else why not.
fn verify(request: &Request, now: std::time::SystemTime) -> Result<Option<String>, String> {
    let leaf = der(&request.cert)
        .map_err(|_| "Certificate is not a valid DER or PEM encoded certificate".to_string())?;
    let end_entity = EndEntityCert::try_from(&leaf)
        .map_err(|_| "Certificate is not a valid end-entity certificate".to_string())?;
    let parsed = x509_cert::Certificate::from_der(leaf.as_ref())
        .map_err(|e| format!("Certificate cannot be read: {e}"))?;
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let validity = &parsed.tbs_certificate.validity;
    let time = match request.not_after.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => {
            let not_after = chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|_| "Timestamp not_after is not in RFC3339 format".to_string())?;
            let seconds = u64::try_from(not_after.timestamp()).unwrap_or(0);
            if validity.not_after.to_unix_duration().as_secs() < seconds {
                return Ok(Some(
                    "Certificate is being used after its expiration date".into(),
                ));
            }
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds))
        }
        None => UnixTime::since_unix_epoch(now),
    };
    if validity.not_before.to_unix_duration().as_secs() > now.as_secs() {
        return Ok(Some(
            "Certificate is being used before its validity date".into(),
        ));
    }
    let Some(chain) = &request.cert_chain else {
        return Ok(None);
    };
    let mut certificates: Vec<CertificateDer<'static>> =
        chain.iter().map(der).collect::<Result<_, _>>()?;
    let Some(root) = certificates.pop() else {
        return Ok(None);
    };
    let anchor = webpki::anchor_from_trusted_cert(&root)
        .map_err(|e| format!("the chain's root is not a valid certificate: {e}"))?
        .to_owned();
    let anchors = [anchor];
    let verified = end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &certificates,
        time,
        KeyUsage::required(CODE_SIGNING),
        None,
        None,
    );
    Ok(match verified {
        Ok(_) => None,
        Err(webpki::Error::InvalidSignatureForPublicKey) => {
            Some("Certificate is not trusted by the provided cert chain".into())
        }
        Err(error) => Some(format!("Certificate not trusted: {error}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    /// A root, and a code-signing leaf it signed, valid from yesterday for `days`, made with
    /// the `openssl` command in `dir`.
    fn chain(dir: &Path, name: &str, days: &str) -> (Vec<u8>, Vec<u8>) {
        let run = |args: &[&str]| {
            let status = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .expect("this test needs the openssl command: `apt-get install -y openssl`");
            assert!(
                status.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&status.stderr)
            );
        };
        let ca = format!("{name}-ca");
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-days",
            "30",
            "-subj",
            &format!("/CN={ca}"),
        ]);
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
        ]);
        std::fs::write(
            dir.join(format!("{name}.ext")),
            "extendedKeyUsage=codeSigning\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            days,
            "-extfile",
            &format!("{name}.ext"),
        ]);
        (
            std::fs::read(dir.join(format!("{name}.pem"))).unwrap(),
            std::fs::read(dir.join(format!("{ca}.pem"))).unwrap(),
        )
    }

    fn ask(cert: &[u8], chain: Option<&[u8]>, not_after: Option<&str>) -> serde_json::Value {
        let pem = |data: &[u8]| json!({"encoding": "Pem", "data": data});
        let request = json!({"cert": pem(cert), "cert_chain": chain.map(|c| vec![pem(c)]), "not_after": not_after});
        serde_json::from_slice(&answer(request.to_string().as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn a_certificate_is_trusted_by_its_own_chain_only() {
        let dir = tempfile::tempdir().unwrap();
        let (leaf, root) = chain(dir.path(), "signer", "10");
        let (_, other_root) = chain(dir.path(), "stranger", "10");
        assert_eq!(
            ask(&leaf, Some(&root), None),
            json!({"trusted": true, "reason": ""})
        );
        assert_eq!(ask(&leaf, None, None)["trusted"], true);
        let refused = ask(&leaf, Some(&other_root), None);
        assert_eq!(refused["trusted"], false);
        assert!(
            refused["reason"]
                .as_str()
                .unwrap()
                .starts_with("Certificate"),
            "{refused}"
        );
        let later = chrono::DateTime::<chrono::Utc>::from(
            std::time::SystemTime::now() + std::time::Duration::from_secs(365 * 86400),
        )
        .to_rfc3339();
        assert_eq!(
            ask(&leaf, Some(&root), Some(&later))["reason"],
            "Certificate is being used after its expiration date"
        );
        let error = answer(br#"{"cert": {"encoding": "Pem", "data": [1, 2]}}"#).unwrap_err();
        assert!(error.contains("not a valid DER or PEM"), "{error}");
    }
}
