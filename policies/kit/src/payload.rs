//! The `validate` payload, read into the [`Request`] a check receives.
//!
//! Only the request's kind, namespace and object and the policy's settings are read; the rest
//! of the AdmissionRequest (`uid`, `userInfo`, `oldObject`, `options`, ...) is skipped without
//! building anything. A usual payload is read from the fast scan of [`json::scan`]; whatever
//! that scan does not vouch for is read by serde, whose reading is the reference: both give the
//! same request, or serde gives the error.

use std::borrow::Cow;
use std::str::Utf8Error;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::json::{self, Json, Node};
use crate::pod_spec::{PodSpec, pod_spec};

/// What a policy's check receives.
pub struct Request<'a, S> {
    /// The object under review (`request.object`).
    pub object: Node<'a>,
    /// Its kind, e.g. `Deployment`.
    pub kind: &'a str,
    /// Its group, `""` for the core group.
    pub group: &'a str,
    /// Its API version (`v1`, `v1beta1`, ...), without the group.
    pub version: &'a str,
    /// The request's namespace, `""` for cluster-scoped objects.
    pub namespace: &'a str,
    /// The policy's settings.
    pub settings: &'a S,
}

impl<'a, S> Request<'a, S> {
    /// The object's pod spec, if it is a workload that has one.
    pub fn pod_spec(&self) -> Option<PodSpec<'a>> {
        pod_spec(self.object, self.kind)
    }

    /// `metadata.name` of the object, `""` when absent.
    pub fn name(&self) -> &'a str {
        self.object
            .pointer("/metadata/name")
            .and_then(Node::as_str)
            .unwrap_or_default()
    }
}

/// Why a payload could not be read.
pub(crate) enum Unreadable {
    NotUtf8(Utf8Error),
    Invalid(serde_json::Error),
}

/// Read `payload` and give its request to `use_request`. The request borrows from the payload
/// and from what reading it built, so it is lent rather than returned.
pub(crate) fn read<S: DeserializeOwned, R>(
    payload: &[u8],
    use_request: impl FnOnce(&Request<'_, S>) -> R,
) -> Result<R, Unreadable> {
    let null = Json::default();
    if let Some(scanned) = json::scan(payload)
        && let Some(fast) = FastPayload::read(&scanned, null.root())
    {
        return Ok(use_request(&fast.request()));
    }
    // Checked once here for the whole payload, UTF-8 lets serde_json borrow each string without
    // checking it again, as `from_slice` would, string by string.
    let text = std::str::from_utf8(payload).map_err(Unreadable::NotUtf8)?;
    let payload: Payload<'_, S> = serde_json::from_str(text).map_err(Unreadable::Invalid)?;
    let admission = &payload.request;
    Ok(use_request(&Request {
        object: admission.object.root(),
        kind: &admission.kind.kind,
        group: &admission.kind.group,
        version: &admission.kind.version,
        namespace: &admission.namespace,
        settings: &payload.settings,
    }))
}

/// The fields of [`Payload`] read from the fast scan's list instead of by serde, or `None`
/// wherever serde's reading might differ: a field of `Payload`, `Admission` or
/// `GroupVersionKind` repeated (serde rejects that) or of an unexpected type (serde rejects
/// most, and reads a struct from an array), or settings that do not deserialize.
struct FastPayload<'a, S> {
    object: Node<'a>,
    kind: &'a str,
    group: &'a str,
    version: &'a str,
    namespace: &'a str,
    settings: S,
}

impl<'a, S: DeserializeOwned> FastPayload<'a, S> {
    fn read(scanned: &'a json::Scanned<'a>, null: Node<'a>) -> Option<Self> {
        let [admission, settings] = unique(scanned.json.root(), ["request", "settings"])?;
        let admission = object_or_missing(admission)??;
        let settings = settings?;
        // The text of the settings: serde deserializes them from it exactly as it would inside
        // the payload (a settings error is then reported by the serde path).
        let (_, text) = scanned
            .spans
            .iter()
            .find(|(index, _)| settings.index() == *index)?;
        let settings = serde_json::from_slice(text).ok()?;
        let [gvk, namespace, object] = unique(admission, ["kind", "namespace", "object"])?;
        let (mut group, mut version, mut kind) = ("", "", "");
        if let Some(gvk) = object_or_missing(gvk)? {
            let [g, v, k] = unique(gvk, ["group", "version", "kind"])?;
            group = str_or_missing(g)?;
            version = str_or_missing(v)?;
            kind = str_or_missing(k)?;
        }
        Some(FastPayload {
            object: object.unwrap_or(null),
            kind,
            group,
            version,
            namespace: str_or_missing(namespace)?,
            settings,
        })
    }

    fn request(&self) -> Request<'_, S> {
        Request {
            object: self.object,
            kind: self.kind,
            group: self.group,
            version: self.version,
            namespace: self.namespace,
            settings: &self.settings,
        }
    }
}

/// The members `keys` of `object`, each `None` when missing, in one pass over its members;
/// `None` when `object` is not an object or one of `keys` is there more than once (serde's
/// "duplicate field").
fn unique<'a, const N: usize>(object: Node<'a>, keys: [&str; N]) -> Option<[Option<Node<'a>>; N]> {
    let mut found = [None; N];
    for (name, value) in object.as_object()? {
        if let Some(at) = keys.iter().position(|key| *key == name)
            && found[at].replace(value).is_some()
        {
            return None;
        }
    }
    Some(found)
}

/// `Some(member)` when it is an object or missing, `None` (serde would differ) otherwise.
fn object_or_missing(member: Option<Node<'_>>) -> Option<Option<Node<'_>>> {
    match member {
        Some(value) if !value.is_object() => None,
        _ => Some(member),
    }
}

/// The member's string, `""` (serde's default) when missing, `None` when it is not a string.
fn str_or_missing(member: Option<Node<'_>>) -> Option<&str> {
    match member {
        Some(value) => value.as_str(),
        None => Some(""),
    }
}

/// The `validate` payload, as Kubewarden's `ValidationRequest` has it: `request` and `settings`
/// must be there, and every field of `request` may be missing.
#[derive(Deserialize)]
struct Payload<'a, S> {
    #[serde(borrow)]
    request: Admission<'a>,
    settings: S,
}

/// The fields of the AdmissionRequest a check reads. serde skips the others without building
/// anything.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Admission<'a> {
    #[serde(borrow)]
    kind: GroupVersionKind<'a>,
    #[serde(borrow)]
    namespace: Cow<'a, str>,
    #[serde(borrow)]
    object: Json<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct GroupVersionKind<'a> {
    #[serde(borrow)]
    group: Cow<'a, str>,
    #[serde(borrow)]
    version: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings with a few shapes, for the fast path's settings against serde's.
    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Knobs {
        limit: Option<u32>,
        names: Vec<String>,
    }

    /// Where the fast path reads a payload, serde reads the same fields from it.
    fn payloads_agree(text: &str) -> bool {
        let null = Json::default();
        let Some(scanned) = json::scan(text.as_bytes()) else {
            return false;
        };
        let Some(fast) = FastPayload::<Knobs>::read(&scanned, null.root()) else {
            return false;
        };
        let serde: Payload<'_, Knobs> = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("the fast path read a payload serde rejects ({e}): {text}"));
        let admission = &serde.request;
        assert_eq!(fast.kind, admission.kind.kind, "{text}");
        assert_eq!(fast.group, admission.kind.group, "{text}");
        assert_eq!(fast.version, admission.kind.version, "{text}");
        assert_eq!(fast.namespace, admission.namespace, "{text}");
        assert_eq!(fast.settings, serde.settings, "{text}");
        assert_eq!(
            fast.object.to_value(),
            admission.object.root().to_value(),
            "{text}"
        );
        assert_eq!(
            fast.object.to_string(),
            admission.object.root().to_string(),
            "{text}"
        );
        true
    }

    /// `{...}` of the members given, in order.
    fn object_of(members: &[(&str, &str)]) -> String {
        let members: Vec<String> = members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("{{{}}}", members.join(","))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn the_fast_path_reads_payloads_as_serde_does(
            gvk in proptest::collection::vec((
                proptest::sample::select(&[r#""group""#, r#""version""#, r#""kind""#, r#""other""#][..]),
                proptest::sample::select(&[r#""apps""#, r#""v1""#, r#""Deploy\u006dent""#, "null", "1", "[]", "{}"][..]),
            ), 0..5),
            gvk_as in proptest::sample::select(&["object", "array", "null", "missing"][..]),
            request in proptest::collection::vec((
                proptest::sample::select(&[r#""kind""#, r#""namespace""#, r#""object""#, r#""uid""#, r#""oldObject""#][..]),
                proptest::sample::select(&[
                    r#""team""#, r#""te\"am""#, "null", "3", "true", "[]", "{}",
                    r#"{"spec": {"template": {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 8080}]}]}}}}"#,
                    r#"{"a": 1, "a": [2.5, -0, 18446744073709551615]}"#,
                ][..]),
            ), 0..6),
            request_as in proptest::sample::select(&["object", "array", "null"][..]),
            settings in proptest::sample::select(&[
                "{}", r#"{"limit": 3}"#, r#"{"limit": -1}"#, r#"{"limit": 3, "limit": 4}"#,
                r#"{"names": ["a", "b\n"]}"#, r#"{"other": 1}"#, "null", "[]", r#"[3, ["x"]]"#,
            ][..]),
            root in proptest::collection::vec(
                proptest::sample::select(&["request", "settings", "uid", "settings", "request"][..]),
                0..4,
            ),
        ) {
            let gvk: Vec<(&str, &str)> = gvk.into_iter().collect();
            let gvk_text = match gvk_as {
                "object" => Some(object_of(&gvk)),
                "array" => Some(format!("[{}]", gvk.iter().map(|(_, v)| *v).collect::<Vec<_>>().join(","))),
                "null" => Some("null".to_string()),
                _ => None,
            };
            let mut members: Vec<(&str, String)> =
                request.iter().map(|(k, v)| (*k, v.to_string())).collect();
            if let Some(gvk_text) = gvk_text {
                members.push((r#""kind""#, gvk_text));
            }
            let members: Vec<(&str, &str)> = members.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let request_text = match request_as {
                "object" => object_of(&members),
                "array" => format!("[{}]", members.iter().map(|(_, v)| *v).collect::<Vec<_>>().join(",")),
                _ => "null".to_string(),
            };
            let root: Vec<(String, &str)> = root
                .iter()
                .map(|key| match *key {
                    "request" => (format!("{key:?}"), request_text.as_str()),
                    "settings" => (format!("{key:?}"), settings),
                    _ => (format!("{key:?}"), r#""u""#),
                })
                .collect();
            let root: Vec<(&str, &str)> = root.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            payloads_agree(&object_of(&root));
        }
    }

    #[test]
    fn the_fast_path_takes_a_usual_request() {
        let payload = r#"{"request": {"uid": "u", "kind": {"group": "apps", "version": "v1",
            "kind": "Deployment"}, "namespace": "team", "userInfo": {"groups": ["a"]},
            "object": {"metadata": {"name": "web"}, "spec": {"replicas": 3}}, "oldObject": null},
            "settings": {"limit": 2}}"#;
        assert!(payloads_agree(payload));
        // Repeated fields and settings that do not deserialize are left to serde.
        for payload in [
            r#"{"request": {}, "request": {}, "settings": {}}"#,
            r#"{"request": {"namespace": "a", "namespace": "b"}, "settings": {}}"#,
            r#"{"request": {"kind": {"kind": "A", "kind": "B"}}, "settings": {}}"#,
            r#"{"request": {}, "settings": {"limit": "3"}}"#,
            r#"{"request": {"kind": ["apps", "v1", "Deployment"]}, "settings": {}}"#,
        ] {
            assert!(!payloads_agree(payload), "{payload}");
        }
    }
}
