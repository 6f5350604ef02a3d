//! The request builder: every loaded document, and any JSON value, becomes an
//! AdmissionRequest or a RequestError, never a panic; a built request serializes.
#![no_main]

use admit::documents::load;
use admit::requests::{ResourceCatalog, build_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let catalog = ResourceCatalog::builtin();
    let mut objects = Vec::new();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        objects.push(value);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for document in load(text).documents {
            for object in admit::objects::extract(&document, &[]).objects {
                objects.push(object.node.to_json());
            }
        }
    }
    let mut crds = catalog.clone();
    for object in &objects {
        // CustomResourceDefinitions in the checked files extend the catalog.
        let _ = crds.add_crd(object);
    }
    for object in &objects {
        for catalog in [&catalog, &crds] {
            if let Ok(built) = build_request(object.clone(), catalog) {
                serde_json::to_vec(&built.request).expect("a built request serializes");
            }
        }
    }
});
