//! `metadata.name` no longer than `maxNameLength`, for every kind.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The message for a name longer than `max` characters. An object named only by
/// `generateName` has no name yet, so nothing to check.
pub fn check(metadata: &ObjectMeta, max: u32) -> Option<String> {
    let name = metadata.name.as_deref()?;
    let length = name.chars().count();
    (length > max as usize).then(|| {
        format!("metadata.name \"{name}\" is {length} characters long; maxNameLength is {max}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: name.map(str::to_string),
            generate_name: Some("web-".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_name_up_to_the_maximum_passes() {
        assert_eq!(check(&named(Some("abcde")), 5), None);
        assert_eq!(check(&named(Some("")), 1), None);
    }

    #[test]
    fn a_longer_name_is_reported_with_its_length() {
        assert_eq!(
            check(&named(Some("abcdef")), 5).as_deref(),
            Some("metadata.name \"abcdef\" is 6 characters long; maxNameLength is 5")
        );
    }

    #[test]
    fn a_generated_name_is_not_checked() {
        assert_eq!(check(&named(None), 1), None);
    }
}
