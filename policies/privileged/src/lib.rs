//! `privileged`: Pod Security Standards, baseline. Privileged containers disable most security
//! mechanisms; `securityContext.privileged` must be unset or `false` in every container.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for container in spec.containers() {
        if container
            .get("/securityContext/privileged")
            .and_then(Node::as_bool)
            == Some(true)
        {
            violations.add(
                container.pointer("/securityContext/privileged"),
                format!("{} must not be privileged", container.label()),
            );
        }
    }
}
