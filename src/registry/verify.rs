//! Keyed cosign signatures, checked offline: cosign stores a signature of a manifest as the
//! tag `sha256-HEX.sig` beside it, one layer per signature. Each layer's blob is a "simple
//! signing" JSON payload naming the signed manifest digest, and its annotation
//! `dev.cosignproject.cosign/signature` is the base64 ECDSA P-256/SHA-256 signature of that
//! payload (sigstore's cosign `pkg/oci/static` and `pkg/cosign/verify.go`; Kubewarden's
//! policy-fetcher checks the same for `kwctl verify --key`). No Fulcio or Rekor is involved.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::{Deserialize, Serialize};

/// The media type of a cosign signature layer.
pub const SIGNATURE_LAYER_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation that carries the signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The `critical.type` of a cosign image signature payload.
pub const PAYLOAD_TYPE: &str = "cosign container image signature";

/// `verify:` in admit.yaml: the keys a module must be signed with (any one of them), and the
/// annotations its signature must carry.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    /// Each key with the file it came from, for messages.
    pub keys: Vec<(PathBuf, VerifyingKey)>,
    /// Annotations every accepted signature carries (`cosign sign -a KEY=VALUE`).
    pub annotations: BTreeMap<String, String>,
}

/// One signature as stored: the payload and its signature, both base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSignature {
    /// The simple-signing payload, base64.
    pub payload: String,
    /// The signature of the payload, base64 (ASN.1 DER, as cosign writes it).
    pub signature: String,
}

/// Every signature pulled for one manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSignatures {
    /// In the order the signature manifest lists them.
    pub signatures: Vec<StoredSignature>,
}

/// Read a PEM public key as cosign writes it (`cosign.pub`: an ECDSA P-256
/// SubjectPublicKeyInfo).
pub fn read_key(pem: &str) -> Result<VerifyingKey, String> {
    VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
        format!(
            "not an ECDSA P-256 public key in PEM (what `cosign generate-key-pair` writes): {e}"
        )
    })
}

/// Whether one of `signatures` is a valid signature of `manifest_digest` by one of the keys,
/// with the required annotations. `Err` says why none is.
pub fn verify(
    config: &VerifyConfig,
    manifest_digest: &str,
    signatures: &StoredSignatures,
) -> Result<(), String> {
    if signatures.signatures.is_empty() {
        return Err("it is not signed: the registry has no cosign signature for it".to_string());
    }
    let mut reasons: Vec<String> = Vec::new();
    for stored in &signatures.signatures {
        match check_one(config, manifest_digest, stored) {
            Ok(()) => return Ok(()),
            Err(reason) => {
                if !reasons.contains(&reason) {
                    reasons.push(reason);
                }
            }
        }
    }
    Err(format!(
        "none of its {} signature{} is valid: {}",
        signatures.signatures.len(),
        if signatures.signatures.len() == 1 {
            ""
        } else {
            "s"
        },
        reasons.join("; ")
    ))
}

fn check_one(
    config: &VerifyConfig,
    manifest_digest: &str,
    stored: &StoredSignature,
) -> Result<(), String> {
    let payload = STANDARD
        .decode(stored.payload.trim())
        .map_err(|_| "a payload is not base64".to_string())?;
    let signature_bytes = STANDARD
        .decode(stored.signature.trim())
        .map_err(|_| "a signature is not base64".to_string())?;
    let signature = Signature::from_der(&signature_bytes)
        .or_else(|_| Signature::from_slice(&signature_bytes))
        .map_err(|_| "a signature is not an ECDSA P-256 signature".to_string())?;
    let signed_by = config
        .keys
        .iter()
        .find(|(_, key)| key.verify(&payload, &signature).is_ok());
    if signed_by.is_none() {
        let names: Vec<String> = config
            .keys
            .iter()
            .map(|(path, _)| path.display().to_string())
            .collect();
        return Err(format!("signed by a key other than {}", names.join(", ")));
    }
    // Only now is the payload trusted enough to read.
    let payload: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|_| "a signed payload is not JSON".to_string())?;
    let critical = &payload["critical"];
    if critical["type"].as_str() != Some(PAYLOAD_TYPE) {
        return Err(format!("a signed payload is not a {PAYLOAD_TYPE}"));
    }
    let signed_digest = critical["image"]["docker-manifest-digest"]
        .as_str()
        .unwrap_or("");
    if signed_digest != manifest_digest {
        return Err(format!(
            "a signature is for {signed_digest}, not this manifest ({manifest_digest})"
        ));
    }
    for (key, value) in &config.annotations {
        if payload["optional"][key].as_str() != Some(value.as_str()) {
            return Err(format!("a signature lacks the annotation {key}={value}"));
        }
    }
    Ok(())
}

/// The payload cosign signs for `manifest_digest` of `repository`.
#[cfg(test)]
fn payload(
    repository: &str,
    manifest_digest: &str,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let optional = if annotations.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::json!(annotations)
    };
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": repository},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": optional,
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::EncodePublicKey;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    fn signed(
        signer: &SigningKey,
        digest: &str,
        annotations: &BTreeMap<String, String>,
    ) -> StoredSignature {
        let payload = payload("r.example/p", digest, annotations);
        let signature: Signature = signer.sign(&payload);
        StoredSignature {
            payload: STANDARD.encode(&payload),
            signature: STANDARD.encode(signature.to_der().as_bytes()),
        }
    }

    fn config(signer: &SigningKey) -> VerifyConfig {
        let pem = signer
            .verifying_key()
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        VerifyConfig {
            keys: vec![(PathBuf::from("cosign.pub"), read_key(&pem).unwrap())],
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn a_signature_by_the_key_of_this_digest_is_accepted_and_nothing_else() {
        let digest = format!("sha256:{}", "1".repeat(64));
        let other = format!("sha256:{}", "2".repeat(64));
        let none = BTreeMap::new();
        let good = StoredSignatures {
            signatures: vec![signed(&key(7), &digest, &none)],
        };
        assert_eq!(verify(&config(&key(7)), &digest, &good), Ok(()));

        let error = verify(&config(&key(8)), &digest, &good).unwrap_err();
        assert!(
            error.contains("signed by a key other than cosign.pub"),
            "{error}"
        );
        let error = verify(&config(&key(7)), &other, &good).unwrap_err();
        assert!(error.contains("not this manifest"), "{error}");
        let error = verify(&config(&key(7)), &digest, &StoredSignatures::default()).unwrap_err();
        assert!(error.contains("not signed"), "{error}");

        let mut wanted = config(&key(7));
        wanted.annotations.insert("env".into(), "prod".into());
        let error = verify(&wanted, &digest, &good).unwrap_err();
        assert!(error.contains("lacks the annotation env=prod"), "{error}");
        let annotated = StoredSignatures {
            signatures: vec![signed(&key(7), &digest, &wanted.annotations)],
        };
        assert_eq!(verify(&wanted, &digest, &annotated), Ok(()));
    }

    #[test]
    fn a_key_that_is_not_p256_pem_is_named() {
        let error =
            read_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").unwrap_err();
        assert!(error.contains("ECDSA P-256"), "{error}");
    }
}
