//! What each stage of `admit check` costs on its own: loading YAML with spans and
//! the line index, turning an object into its AdmissionRequest, one `validate` call (warm and on a
//! fresh instance; for `privileged`, for the no-op policy that measures the host's floor, for the
//! whole `recommended` set in both orders, and for each built-in alone), mapping a violation's
//! pointer back to a span and a `line:column`, and one whole evaluation as `check`
//! does it (request, call, spans) for the no-op policy and for each built-in.
//!
//! `cargo bench --bench pipeline` (add `-- --quick` for a fast look, or a name filter such as
//! `-- noop`). `scripts/bench.sh` times the whole process, and reads the "one evaluation" group
//! from here; these numbers say where the time goes.
//! Needs `tests/policies/noop.wasm` (committed; `bash tests/policies/build.sh noop`).

// A benchmark states its assumptions like a test: a broken fixture should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use admit::documents::{self, Document};
use admit::findings;
use admit::objects::{self, ObjectRef};
use admit::policies::{Builtin, CompiledPolicy, Limits, PolicyInstance, PolicyRuntime, Settings};
use admit::requests::{AdmissionRequest, ResourceCatalog, build_request, object_header};
use admit::source::SourceFile;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// One application as a team writes it: a ConfigMap, a Deployment with a sidecar, its Service
/// and Ingress. `NAME` is replaced to make each copy distinct.
const APP: &str = r#"# NAME: the service, its configuration and how it is reached.
apiVersion: v1
kind: ConfigMap
metadata:
  name: NAME-config
  namespace: checkout
  labels:
    app.kubernetes.io/name: NAME
data:
  LOG_LEVEL: info
  config.yaml: |
    server:
      port: 8080
    cache:
      ttl: 60s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  namespace: checkout
  labels:
    app.kubernetes.io/name: NAME
    app.kubernetes.io/part-of: checkout
    app.kubernetes.io/version: "3.14.2"
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: NAME
  template:
    metadata:
      labels:
        app.kubernetes.io/name: NAME
      annotations:
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: NAME
      securityContext:
        runAsNonRoot: true
        fsGroup: 2000
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: NAME
          image: registry.example.com/checkout/NAME:3.14.2
          args: ["--port=8080", "--config=/etc/app/config.yaml"]
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: DATABASE_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: NAME-db
                  key: password
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
            limits:
              memory: 256Mi
          readinessProbe:
            httpGet:
              path: /ready
              port: http
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 10
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: config
              mountPath: /etc/app
              readOnly: true
        - name: log-shipper
          image: fluent/fluent-bit:3.1.9
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
          securityContext:
            privileged: true
      volumes:
        - name: config
          configMap:
            name: NAME-config
---
apiVersion: v1
kind: Service
metadata:
  name: NAME
  namespace: checkout
spec:
  selector:
    app.kubernetes.io/name: NAME
  ports:
    - name: http
      port: 80
      targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: NAME
  namespace: checkout
spec:
  ingressClassName: nginx
  tls:
    - hosts: [NAME.example.com]
      secretName: NAME-tls
  rules:
    - host: NAME.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: NAME
                port:
                  number: 80
"#;

/// Applications in the multi-document file: 100 documents, about 3,000 lines.
const APPS: usize = 25;

/// A violation that exists (the sidecar's `privileged`) and one that does not (nothing sets
/// `runAsUser`, so the finding points at the nearest ancestor).
const PRESENT: &str = "/spec/template/spec/containers/1/securityContext/privileged";
const MISSING: &str = "/spec/template/spec/containers/0/securityContext/runAsUser";

fn stream() -> String {
    let apps: Vec<String> = (0..APPS)
        .map(|i| APP.replace("NAME", &format!("checkout-api-{i}")))
        .collect();
    apps.join("---\n")
}

/// The first Deployment of a loaded stream.
fn deployment(docs: &[Document]) -> ObjectRef<'_> {
    docs.iter()
        .flat_map(|doc| objects::extract(doc, &[]).objects)
        .find(|object| object.node.get("kind").and_then(|k| k.as_str()) == Some("Deployment"))
        .expect("the stream has a Deployment")
}

/// The Deployment's AdmissionRequest as JSON, as `check` serializes it once for every policy.
fn deployment_request(docs: &[Document]) -> (AdmissionRequest, Vec<u8>) {
    let catalog = ResourceCatalog::builtin();
    let built = build_request(deployment(docs).node.to_json(), &catalog).expect("a valid object");
    let json = serde_json::to_vec(&built.request).expect("serializable");
    (built.request, json)
}

fn compile(runtime: &PolicyRuntime, id: &str, wasm: &[u8]) -> CompiledPolicy {
    CompiledPolicy::from_bytes(
        runtime,
        wasm,
        format!("bench:{id}"),
        id.to_string(),
        Settings::new(),
    )
    .unwrap_or_else(|e| panic!("{id} does not compile: {e}"))
}

fn load(c: &mut Criterion) {
    let text = stream();
    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Bytes(text.len() as u64));
    // Includes copying the text into the SourceFile, as reading a file does.
    group.bench_function("source file + line index", |b| {
        b.iter(|| SourceFile::new("apps.yaml", black_box(text.as_str())))
    });
    group.bench_function("documents::load (parse, spans, YAML 1.1)", |b| {
        b.iter(|| documents::load(black_box(&text)))
    });
    let loaded = documents::load(&text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    group.bench_function("objects::extract", |b| {
        b.iter(|| {
            loaded
                .documents
                .iter()
                .map(|doc| objects::extract(black_box(doc), &[]).objects.len())
                .sum::<usize>()
        })
    });
    group.bench_function("Node::to_json (every document)", |b| {
        b.iter(|| {
            loaded
                .documents
                .iter()
                .map(|doc| black_box(&doc.root).to_json())
                .collect::<Vec<_>>()
        })
    });
    // Ten offsets in each document, as a report with a thousand findings looks them up.
    let file = SourceFile::new("apps.yaml", text.as_str());
    let offsets: Vec<usize> = loaded
        .documents
        .iter()
        .flat_map(|doc| (0..10).map(move |i| doc.span.start + i * 97))
        .collect();
    group.throughput(Throughput::Elements(offsets.len() as u64));
    group.bench_function("SourceFile::location (1,000 lookups)", |b| {
        b.iter(|| {
            offsets
                .iter()
                .map(|&offset| file.location(black_box(offset)).line)
                .sum::<usize>()
        })
    });
    group.finish();
}

fn requests(c: &mut Criterion) {
    let text = stream();
    let loaded = documents::load(&text);
    let object = deployment(&loaded.documents);
    let catalog = ResourceCatalog::builtin();
    let json = object.node.to_json();
    let (request, _) = deployment_request(&loaded.documents);

    let mut group = c.benchmark_group("request (one Deployment)");
    group.bench_function("Node::to_json", |b| {
        b.iter(|| black_box(object.node).to_json())
    });
    group.bench_function("build_request (with a copy of the object)", |b| {
        b.iter(|| build_request(black_box(json.clone()), &catalog).expect("valid"))
    });
    group.bench_function("serialize AdmissionRequest", |b| {
        b.iter(|| serde_json::to_vec(black_box(&request)).expect("serializable"))
    });
    group.bench_function("to_json + build_request + serialize", |b| {
        b.iter(|| {
            let built = build_request(black_box(object.node).to_json(), &catalog).expect("valid");
            serde_json::to_vec(&built.request).expect("serializable")
        })
    });
    // What `check` does: a request from the object's header, the object written from the tree.
    group.bench_function("object_header + build_request (check)", |b| {
        b.iter(|| build_request(object_header(black_box(object.node)), &catalog).expect("valid"))
    });
    group.bench_function("to_json_with_object from the tree (check)", |b| {
        let mut request = build_request(object_header(object.node), &catalog)
            .expect("valid")
            .request;
        b.iter(|| {
            request
                .to_json_with_object(black_box(object.node), 4096)
                .expect("serializable")
        })
    });
    group.finish();
}

fn evaluate(c: &mut Criterion) {
    let text = stream();
    let loaded = documents::load(&text);
    let (request, request_json) = deployment_request(&loaded.documents);
    let runtime = PolicyRuntime::new(Limits::default(), None).expect("an engine");

    let privileged = Builtin::find("privileged").expect("the built-in privileged");
    let privileged = compile(&runtime, "privileged", privileged.wasm);
    let noop_wasm = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/policies/noop.wasm"
    ))
    .expect("tests/policies/noop.wasm (bash tests/policies/build.sh noop)");
    let noop = compile(&runtime, "noop", &noop_wasm);
    let recommended: Vec<CompiledPolicy> = Builtin::preset("recommended")
        .expect("the recommended preset")
        .into_iter()
        .map(|b| compile(&runtime, b.id, b.wasm))
        .filter(|policy| policy.applies_to(&request))
        .collect();

    let mut group = c.benchmark_group("evaluate (one Deployment)");
    for (name, policy) in [("privileged", &privileged), ("noop", &noop)] {
        let mut instance = policy.instantiate().expect("instantiates");
        group.bench_function(format!("{name}: validate, warm instance"), |b| {
            b.iter(|| {
                instance
                    .validate(black_box(&request_json))
                    .expect("answers")
            })
        });
        group.bench_function(format!("{name}: instantiate"), |b| {
            b.iter(|| policy.instantiate().expect("instantiates"))
        });
        group.bench_function(format!("{name}: instantiate + validate"), |b| {
            b.iter(|| {
                let mut instance = policy.instantiate().expect("instantiates");
                instance
                    .validate(black_box(&request_json))
                    .expect("answers")
            })
        });
    }
    // The set `admit check` runs by default, each policy that wants a Deployment called once,
    // in turn, as `check` does for each object: per element, the built-ins' average cost of one
    // evaluation.
    let mut instances: Vec<_> = recommended
        .iter()
        .map(|policy| policy.instantiate().expect("instantiates"))
        .collect();
    group.throughput(Throughput::Elements(instances.len() as u64));
    group.bench_function(
        format!(
            "recommended ({} policies): validate each, warm",
            instances.len()
        ),
        |b| {
            b.iter(|| {
                instances
                    .iter_mut()
                    .map(|instance| {
                        instance
                            .validate(black_box(&request_json))
                            .expect("answers")
                    })
                    .filter(|response| !response.accepted)
                    .count()
            })
        },
    );
    // The same calls in the other order: each policy on as many objects in a row as there are
    // policies, so its code and memory stay in the CPU's caches between calls.
    let rounds = instances.len();
    group.throughput(Throughput::Elements((instances.len() * rounds) as u64));
    group.bench_function(
        format!("recommended ({rounds} policies): each policy {rounds} times in a row, warm"),
        |b| {
            b.iter(|| {
                instances
                    .iter_mut()
                    .flat_map(|instance| {
                        (0..rounds)
                            .map(|_| {
                                instance
                                    .validate(black_box(&request_json))
                                    .expect("answers")
                            })
                            .collect::<Vec<_>>()
                    })
                    .filter(|response| !response.accepted)
                    .count()
            })
        },
    );
    group.finish();

    // One evaluation of one policy, every part the host pays
    // for it (the request built from the object and written out, the warm guest call, the
    // violations mapped to spans and line:column), for the no-op policy (the floor) and for
    // each built-in. An instance is reset only after a failure, so a warm call has no reset.
    let file = SourceFile::new("apps.yaml", text.as_str());
    let object = deployment(&loaded.documents);
    let name = std::sync::Arc::new(findings::ObjectName::of(object.node));
    let catalog = ResourceCatalog::builtin();
    let one_evaluation =
        |b: &mut criterion::Bencher<'_>, id: &str, instance: &mut PolicyInstance| {
            b.iter(|| {
                let mut request = build_request(object_header(black_box(object.node)), &catalog)
                    .expect("valid")
                    .request;
                let json = request
                    .to_json_with_object(object.node, 4096)
                    .expect("serializable");
                let response = instance.validate(&json).expect("answers");
                findings::from_response(id, &file, &object, &name, &response)
                    .iter()
                    .filter_map(|finding| finding.location.as_ref())
                    .map(|at| file.location(at.span.start).line)
                    .sum::<usize>()
            })
        };
    // `scripts/bench.sh` reads this group for the built-ins' cost against the floor: longer than the groups around it, so
    // that its average of two dozen medians is steady on a busy machine.
    let mut group = c.benchmark_group("one evaluation, as check does it (one Deployment, warm)");
    group.sample_size(30);
    group.warm_up_time(std::time::Duration::from_millis(500));
    group.measurement_time(std::time::Duration::from_secs(2));
    let mut noop_instance = noop.instantiate().expect("instantiates");
    group.bench_function("noop (the floor)", |b| {
        one_evaluation(b, "noop", &mut noop_instance)
    });
    for (policy, instance) in recommended.iter().zip(instances.iter_mut()) {
        group.bench_function(policy.id(), |b| one_evaluation(b, policy.id(), instance));
    }
    group.finish();

    // Which built-ins the average hides: each one's warm call, briefly measured.
    let mut group = c.benchmark_group("validate per built-in (one Deployment, warm)");
    group.sample_size(20);
    group.warm_up_time(std::time::Duration::from_millis(300));
    group.measurement_time(std::time::Duration::from_secs(1));
    for (policy, instance) in recommended.iter().zip(instances.iter_mut()) {
        group.bench_function(policy.id(), |b| {
            b.iter(|| {
                instance
                    .validate(black_box(&request_json))
                    .expect("answers")
            })
        });
    }
    group.finish();
}

fn spans(c: &mut Criterion) {
    let text = stream();
    let file = SourceFile::new("apps.yaml", text.as_str());
    let loaded = documents::load(&text);
    let object = deployment(&loaded.documents);

    let mut group = c.benchmark_group("findings");
    for (name, pointer) in [("present", PRESENT), ("missing", MISSING)] {
        group.bench_function(format!("locate ({name} node) + location"), |b| {
            b.iter(|| {
                let (span, exact) = findings::locate(&file, &object, black_box(pointer));
                (file.location(span.start), exact)
            })
        });
    }
    group.finish();
}

// Evaluation first: a `--quick` look at the floor comes first.
criterion_group!(pipeline, evaluate, requests, load, spans);
criterion_main!(pipeline);
