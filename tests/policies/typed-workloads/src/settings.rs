//! The policy's settings: `allowedRegistries` (image prefixes; empty allows every image) and
//! `maxNameLength` (the longest `metadata.name` accepted).

use kubewarden_policy_sdk::settings::Validatable;
use serde::{Deserialize, Serialize};

/// The longest name most kinds accept: a DNS label (RFC 1123).
const DEFAULT_MAX_NAME_LENGTH: u32 = 63;
/// The longest name any kind accepts: a DNS subdomain.
const LONGEST_NAME: u32 = 253;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Prefixes an image must start with, compared as written: `registry.example.com/` rather
    /// than `registry.example.com`, which `registry.example.com.evil.io/x` also starts with.
    pub allowed_registries: Vec<String>,
    pub max_name_length: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allowed_registries: Vec::new(),
            max_name_length: DEFAULT_MAX_NAME_LENGTH,
        }
    }
}

impl Settings {
    /// Whether `image` may run: every image when no registry is listed.
    pub fn allows_image(&self, image: &str) -> bool {
        self.allowed_registries.is_empty()
            || self
                .allowed_registries
                .iter()
                .any(|prefix| image.starts_with(prefix.as_str()))
    }
}

impl Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        if !(1..=LONGEST_NAME).contains(&self.max_name_length) {
            return Err(format!(
                "maxNameLength must be between 1 and {LONGEST_NAME}, not {}",
                self.max_name_length
            ));
        }
        if let Some(i) = self.allowed_registries.iter().position(String::is_empty) {
            // An empty prefix would allow every image: surely not what was meant.
            return Err(format!(
                "allowedRegistries[{i}] is empty: list registry prefixes such as \"registry.example.com/\""
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubewarden_policy_sdk::{settings::SettingsValidationResponse, validate_settings};

    /// What `validate_settings` answers to `json`, as the host reads it.
    fn answer(json: &str) -> Result<SettingsValidationResponse, String> {
        validate_settings::<Settings>(json.as_bytes())
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
            .map_err(|e| e.to_string())
    }

    fn refusal(json: &str) -> Option<String> {
        let answer = answer(json).unwrap();
        assert_eq!(answer.valid, answer.message.is_none(), "{answer:?}");
        answer.message
    }

    #[test]
    fn no_settings_allow_every_image_and_names_up_to_63() {
        let settings: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings.max_name_length, 63);
        assert!(settings.allows_image("anything:latest"));
        assert_eq!(refusal("{}"), None);
    }

    #[test]
    fn an_image_is_allowed_by_any_listed_prefix() {
        let settings: Settings = serde_json::from_str(
            r#"{"allowedRegistries": ["registry.example.com/", "ghcr.io/acme/"]}"#,
        )
        .unwrap();
        assert!(settings.allows_image("registry.example.com/shop/api:1.2"));
        assert!(settings.allows_image("ghcr.io/acme/tool@sha256:00"));
        assert!(!settings.allows_image("ghcr.io/other/tool:1"));
        assert!(!settings.allows_image("registry.example.com.evil.io/api:1"));
        assert!(!settings.allows_image("nginx"));
    }

    #[test]
    fn max_name_length_is_refused_outside_1_to_253() {
        assert_eq!(
            refusal(r#"{"maxNameLength": 0}"#).as_deref(),
            Some("maxNameLength must be between 1 and 253, not 0")
        );
        assert_eq!(
            refusal(r#"{"maxNameLength": 254}"#).as_deref(),
            Some("maxNameLength must be between 1 and 253, not 254")
        );
        assert_eq!(refusal(r#"{"maxNameLength": 1}"#), None);
        assert_eq!(refusal(r#"{"maxNameLength": 253}"#), None);
    }

    #[test]
    fn an_empty_registry_prefix_is_refused() {
        assert_eq!(
            refusal(r#"{"allowedRegistries": ["ghcr.io/acme/", ""]}"#).as_deref(),
            Some(
                "allowedRegistries[1] is empty: list registry prefixes such as \"registry.example.com/\""
            )
        );
    }

    #[test]
    fn settings_of_the_wrong_shape_fail_in_the_sdk() {
        // The SDK's validate_settings answers a payload that does not deserialize with a waPC
        // error rather than `valid: false`, as every policy built on it does.
        for json in [
            r#"{"maxNameLength": -1}"#,
            r#"{"allowedRegistries": "ghcr.io/"}"#,
            r#"{"allowedRegistry": ["ghcr.io/"]}"#,
        ] {
            let error = answer(json).unwrap_err();
            assert!(error.contains("validation payload"), "{json}: {error}");
        }
    }
}
