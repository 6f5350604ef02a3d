//! Parsing a policy's response and turning it into findings: any bytes a guest answers with
//! are either rejected as invalid or become findings whose spans lie inside the manifest
//! (violation pointers and mutated objects are arbitrary).
#![no_main]

use std::sync::Arc;

use admit::documents::load;
use admit::findings::{ObjectName, from_response};
use admit::policies::ValidationResponse;
use admit::source::SourceFile;
use libfuzzer_sys::fuzz_target;

const MANIFEST: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, \"a/b~c\": x}
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: true
          ports: [{containerPort: 80}]
";

fuzz_target!(|data: &[u8]| {
    let Ok(response) = serde_json::from_slice::<ValidationResponse>(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.yaml", MANIFEST);
    let loaded = load(MANIFEST);
    let document = &loaded.documents[0];
    let extracted = admit::objects::extract(document, &[]);
    let object = &extracted.objects[0];
    let name = Arc::new(ObjectName::of(object.node));
    for finding in from_response("fuzz", &file, object, &name, &response) {
        if let Some(location) = &finding.location {
            assert!(location.span.start <= location.span.end);
            assert!(location.span.end <= MANIFEST.len(), "{finding:?}");
            let _ = file.location(location.span.start);
        }
    }
});
