#!/usr/bin/env python3
"""Write realistic, seeded Kubernetes manifests for admit's benchmarks.

    gen-workloads.py OUT_DIR COUNT [--seed N]     exactly COUNT objects under OUT_DIR
    gen-workloads.py --one-deployment FILE        one realistic Deployment

Objects come in applications, as teams write them: a web service (Deployment, Service,
ConfigMap, sometimes an Ingress), a stateful service (StatefulSet and its headless Service), a
node agent (DaemonSet), batch work (Job or CronJob). An application is one multi-document file
or one file per object in the application's folder. Pod specs vary the way real ones do: 1-3
containers, images with tags, `latest`, no tag or a digest, hardened / partial / missing /
privileged securityContexts, resources and probes present or not, env from literals, ConfigMaps
and Secrets, and both list-indentation styles. The same seed gives the same bytes; a smaller
COUNT gives a prefix of a larger one's applications.

Only the standard library: the YAML is written by the small emitter below, which quotes every
string that YAML 1.1 (what kubectl reads) would take for something else.
"""

import argparse
import json
import os
import random
import re
import sys

NAMESPACES = ["payments", "checkout", "search", "identity", "platform", "data", "ml", "web", None]
WORDS = [
    "api", "auth", "billing", "cart", "catalog", "gateway", "inventory", "ledger", "mailer",
    "notifier", "orders", "profile", "quotes", "ranker", "reports", "scheduler", "session",
    "shipping", "tax", "tracker", "users", "vault", "worker", "indexer", "frontend", "admin",
]
REGISTRIES = ["", "docker.io/library/", "ghcr.io/acme/", "registry.example.com/", "quay.io/acme/",
              "123456789012.dkr.ecr.eu-west-1.amazonaws.com/"]
SIDECARS = [
    ("log-shipper", "fluent/fluent-bit", ["3.1.9", "2.2.2", "latest"]),
    ("envoy", "envoyproxy/envoy", ["v1.31.2", "v1.29.4"]),
    ("metrics", "prom/statsd-exporter", ["v0.27.1", None]),
    ("cloudsql-proxy", "gcr.io/cloud-sql-connectors/cloud-sql-proxy", ["2.13.0"]),
]
STATEFUL = [("postgres", "postgres", ["16.4", "15", "latest"], 5432),
            ("redis", "redis", ["7.4.1-alpine", "7"], 6379),
            ("kafka", "bitnami/kafka", ["3.8.0"], 9092),
            ("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch", ["8.15.3"], 9200)]
AGENTS = [("node-exporter", "quay.io/prometheus/node-exporter", ["v1.8.2"], 9100),
          ("fluentd", "fluent/fluentd-kubernetes-daemonset", ["v1.17-debian-1"], 24231),
          ("cni-helper", "registry.example.com/net/cni-helper", ["0.4.1"], 9099)]


# ---- YAML emitter ---------------------------------------------------------------------------

YAML11_SPECIAL = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ""}
NUMBER_LIKE = re.compile(r"[-+.0-9][0-9a-fA-FxXoO_.:eE+-]*")


def scalar(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return str(value)
    s = str(value)
    if (s.lower() in YAML11_SPECIAL or NUMBER_LIKE.fullmatch(s) or s[0] in "-?:,[]{}#&*!|>'\"%@`"
            or ": " in s or " #" in s or s.endswith(":") or s != s.strip()):
        return json.dumps(s)
    return s


def emit(value, indent, out, seq_indent):
    """Append the block YAML of mapping or sequence `value` at `indent` spaces to `out`."""
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            key = scalar(key)
            if isinstance(item, dict) and item:
                out.append(f"{pad}{key}:\n")
                emit(item, indent + 2, out, seq_indent)
            elif isinstance(item, list) and item:
                out.append(f"{pad}{key}:\n")
                emit(item, indent + (2 if seq_indent else 0), out, seq_indent)
            else:
                out.append(f"{pad}{key}: {inline(item, indent + 2)}\n")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                # The first line of the item goes after the dash; the rest is indented under it.
                sub = []
                emit(item, indent + 2, sub, seq_indent)
                out.append(f"{pad}- {sub[0][indent + 2:]}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {inline(item, indent + 2)}\n")


def inline(value, indent):
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if isinstance(value, str) and "\n" in value:
        body = value if value.endswith("\n") else value + "\n"
        head = "|" if value.endswith("\n") else "|-"
        lines = "".join((" " * indent + line if line else "") + "\n" for line in body[:-1].split("\n"))
        return head + "\n" + lines.rstrip("\n")
    return scalar(value)


def document(obj, seq_indent, comment=None):
    out = [f"# {comment}\n"] if comment else []
    emit(obj, 0, out, seq_indent)
    return "".join(out)


# ---- objects --------------------------------------------------------------------------------

class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def chance(self, p):
        return self.r.random() < p

    def image(self, repo, tags):
        tag = self.r.choice(tags + [None] if self.chance(0.05) else tags)
        if self.chance(0.06):
            digest = "".join(self.r.choice("0123456789abcdef") for _ in range(64))
            return f"{repo}@sha256:{digest}"
        return repo if tag is None else f"{repo}:{tag}"

    def app_image(self, name):
        registry = self.r.choice(REGISTRIES[2:]) if self.chance(0.8) else self.r.choice(REGISTRIES)
        version = f"{self.r.randint(0, 4)}.{self.r.randint(0, 30)}.{self.r.randint(0, 12)}"
        tags = [version, f"v{version}", "latest"] if self.chance(0.1) else [version, f"v{version}"]
        return self.image(f"{registry}{name}", tags)

    def resources(self):
        roll = self.r.random()
        if roll < 0.15:
            return None
        cpu = self.r.choice(["50m", "100m", "250m", "500m", 1, 2])
        memory = self.r.choice(["64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi"])
        if roll < 0.35:
            return {"requests": {"cpu": cpu, "memory": memory}}
        return {"requests": {"cpu": cpu, "memory": memory},
                "limits": {"cpu": self.r.choice(["500m", 1, 2, "4"]) if self.chance(0.6) else cpu,
                           "memory": memory}}

    def security_context(self):
        roll = self.r.random()
        if roll < 0.35:
            return {"runAsNonRoot": True, "runAsUser": self.r.choice([1000, 10001, 65532]),
                    "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": self.chance(0.7),
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"}}
        if roll < 0.6:
            context = {"allowPrivilegeEscalation": False}
            if self.chance(0.5):
                context["runAsNonRoot"] = True
            if self.chance(0.3):
                context["capabilities"] = {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
            return context
        if roll < 0.94:
            return None
        if roll < 0.97:
            return {"capabilities": {"add": [self.r.choice(["NET_ADMIN", "SYS_PTRACE", "SYS_ADMIN"])]}}
        return {"privileged": True}

    def probe(self, port, path="/healthz"):
        kind = self.r.random()
        if kind < 0.6:
            handler = {"httpGet": {"path": path, "port": port}}
        elif kind < 0.9:
            handler = {"tcpSocket": {"port": port}}
        else:
            handler = {"exec": {"command": ["/bin/sh", "-c", "test -f /tmp/ready"]}}
        handler["initialDelaySeconds"] = self.r.choice([0, 5, 10, 30])
        handler["periodSeconds"] = self.r.choice([5, 10, 20])
        if self.chance(0.3):
            handler["failureThreshold"] = self.r.choice([3, 5, 10])
        return handler

    def env(self, app):
        env = [{"name": "APP_NAME", "value": app},
               {"name": "LOG_LEVEL", "value": self.r.choice(["info", "debug", "warn"])}]
        if self.chance(0.5):
            env.append({"name": "DATABASE_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": f"{app}-db", "key": "password"}}})
        if self.chance(0.3):
            env.append({"name": "FEATURE_FLAGS",
                        "valueFrom": {"configMapKeyRef": {"name": f"{app}-config", "key": "flags"}}})
        if self.chance(0.05):
            env.append({"name": "API_TOKEN", "value": "changeme-" + str(self.r.randint(1000, 9999))})
        if self.chance(0.2):
            env.append({"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}})
        return env

    def container(self, name, image, port, main):
        c = {"name": name, "image": image}
        if self.chance(0.25):
            c["imagePullPolicy"] = self.r.choice(["IfNotPresent", "Always"])
        if main and self.chance(0.2):
            c["args"] = [f"--port={port}", "--config=/etc/app/config.yaml"]
        if port:
            c["ports"] = [{"name": "http" if main else "metrics", "containerPort": port,
                           "protocol": "TCP"}]
        if main:
            c["env"] = self.env(name)
        resources = self.resources()
        if resources:
            c["resources"] = resources
        if port and self.chance(0.7 if main else 0.3):
            c["readinessProbe"] = self.probe(port, "/ready")
            if self.chance(0.8):
                c["livenessProbe"] = self.probe(port)
        context = self.security_context()
        if context:
            c["securityContext"] = context
        if main and self.chance(0.5):
            c["volumeMounts"] = [{"name": "config", "mountPath": "/etc/app", "readOnly": True}]
            if self.chance(0.4):
                c["volumeMounts"].append({"name": "tmp", "mountPath": "/tmp"})
        return c

    def pod_spec(self, app, image, port, restart=None, agent=False):
        containers = [self.container(app, image, port, True)]
        for _ in range(self.r.choices([0, 1, 2], [55, 35, 10])[0]):
            name, repo, tags = self.r.choice(SIDECARS)
            if name in (c["name"] for c in containers):
                continue
            containers.append(self.container(name, self.image(repo, tags),
                                             self.r.choice([None, 9102, 2020]), False))
        spec = {}
        if self.chance(0.4):
            spec["serviceAccountName"] = app
        if self.chance(0.2):
            spec["automountServiceAccountToken"] = False
        if self.chance(0.45):
            pod_context = {"runAsNonRoot": True, "fsGroup": 2000}
            if self.chance(0.7):
                pod_context["seccompProfile"] = {"type": "RuntimeDefault"}
            spec["securityContext"] = pod_context
        if agent:
            if self.chance(0.5):
                spec["hostNetwork"] = True
            if self.chance(0.3):
                spec["hostPID"] = True
            spec["tolerations"] = [{"operator": "Exists"}]
        elif self.chance(0.15):
            spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
        if restart:
            spec["restartPolicy"] = restart
        if self.chance(0.1):
            spec["initContainers"] = [self.container("migrate", image, None, False)]
            spec["initContainers"][0]["command"] = ["/app/migrate", "up"]
        spec["containers"] = containers
        volumes = []
        if any("volumeMounts" in c for c in containers):
            volumes += [{"name": "config", "configMap": {"name": f"{app}-config"}},
                        {"name": "tmp", "emptyDir": {}}]
        if agent and self.chance(0.7):
            volumes.append({"name": "varlog", "hostPath": {"path": "/var/log"}})
        if volumes:
            spec["volumes"] = volumes
        return spec

    def metadata(self, name, namespace, app, part_of):
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": part_of}
        if self.chance(0.5):
            labels["app.kubernetes.io/version"] = f"{self.r.randint(1, 5)}.{self.r.randint(0, 20)}"
        if self.chance(0.3):
            labels["team"] = part_of
        meta = {"name": name}
        if namespace:
            meta["namespace"] = namespace
        meta["labels"] = labels
        if self.chance(0.15):
            meta["annotations"] = {"owner": f"{part_of}@example.com",
                                   "description": f"The {app} service of {part_of}: keep it warm."}
        return meta

    def template(self, app, spec):
        template = {"metadata": {"labels": {"app.kubernetes.io/name": app}}, "spec": spec}
        if self.chance(0.2):
            template["metadata"]["annotations"] = {"prometheus.io/scrape": "true",
                                                   "prometheus.io/port": "9102"}
        return template

    def deployment(self, app, ns, part_of, port):
        spec = {"replicas": self.r.choice([1, 2, 3, 5]),
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}}}
        if self.chance(0.3):
            spec["strategy"] = {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
        spec["template"] = self.template(app, self.pod_spec(app, self.app_image(app), port))
        return {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": self.metadata(app, ns, app, part_of), "spec": spec}

    def service(self, app, ns, part_of, port, headless=False):
        spec = {}
        if headless:
            spec["clusterIP"] = "None"
        else:
            kind = self.r.choices(["ClusterIP", None, "NodePort", "LoadBalancer"], [60, 25, 8, 7])[0]
            if kind:
                spec["type"] = kind
        spec["selector"] = {"app.kubernetes.io/name": app}
        spec["ports"] = [{"name": "http", "port": 80 if not headless else port,
                          "targetPort": port, "protocol": "TCP"}]
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": self.metadata(app, ns, app, part_of), "spec": spec}

    def config_map(self, app, ns, part_of):
        lines = [f"server:\n  port: {self.r.choice([8080, 8000, 3000])}",
                 f"log:\n  level: {self.r.choice(['info', 'debug'])}\n  format: json",
                 f"cache:\n  ttl: {self.r.randint(10, 600)}s"]
        data = {"flags": ",".join(self.r.sample(["beta-ui", "fast-path", "new-search", "dark-mode"], 2)),
                "config.yaml": "\n".join(self.r.sample(lines, self.r.randint(1, 3))) + "\n"}
        if self.chance(0.3):
            data["TIMEOUT"] = str(self.r.choice([5, 10, 30]))
            data["ENABLED"] = self.r.choice(["yes", "true", "on"])
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": self.metadata(f"{app}-config", ns, app, part_of), "data": data}

    def ingress(self, app, ns, part_of):
        host = f"{app}.{part_of}.example.com"
        spec = {}
        if self.chance(0.8):
            spec["ingressClassName"] = self.r.choice(["nginx", "traefik"])
        if self.chance(0.6):
            spec["tls"] = [{"hosts": [host], "secretName": f"{app}-tls"}]
        spec["rules"] = [{"host": host, "http": {"paths": [
            {"path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": app, "port": {"number": 80}}}}]}}]
        meta = self.metadata(app, ns, app, part_of)
        if self.chance(0.3):
            meta.setdefault("annotations", {})["cert-manager.io/cluster-issuer"] = "letsencrypt"
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}

    def stateful_set(self, app, ns, part_of):
        name, repo, tags, port = self.r.choice(STATEFUL)
        spec = {"serviceName": app, "replicas": self.r.choice([1, 3]),
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "template": self.template(app, self.pod_spec(app, self.image(repo, tags), port)),
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": self.r.choice(["10Gi", "50Gi", "200Gi"])}}}}]}
        return {"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": self.metadata(app, ns, name, part_of), "spec": spec}, port

    def daemon_set(self, app, ns, part_of):
        name, repo, tags, port = self.r.choice(AGENTS)
        spec = {"selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "template": self.template(app, self.pod_spec(app, self.image(repo, tags), port, agent=True))}
        if self.chance(0.5):
            spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}
        return {"apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": self.metadata(app, ns or "kube-system", name, part_of), "spec": spec}

    def job_spec(self, app):
        spec = {"backoffLimit": self.r.choice([0, 3, 6])}
        if self.chance(0.4):
            spec["ttlSecondsAfterFinished"] = 3600
        spec["template"] = self.template(
            app, self.pod_spec(app, self.app_image(app), None, restart=self.r.choice(["Never", "OnFailure"])))
        return spec

    def job(self, app, ns, part_of):
        return {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": self.metadata(app, ns, app, part_of), "spec": self.job_spec(app)}

    def cron_job(self, app, ns, part_of):
        spec = {"schedule": self.r.choice(["*/5 * * * *", "0 3 * * *", "30 1 * * 0", "@hourly"]),
                "concurrencyPolicy": self.r.choice(["Forbid", "Replace", "Allow"])}
        if self.chance(0.3):
            spec["successfulJobsHistoryLimit"] = 3
        spec["jobTemplate"] = {"spec": self.job_spec(app)}
        version = "batch/v1beta1" if self.chance(0.05) else "batch/v1"
        return {"apiVersion": version, "kind": "CronJob",
                "metadata": self.metadata(app, ns, app, part_of), "spec": spec}

    def application(self, index):
        """One application's objects, as (file stem, object) pairs."""
        part_of = self.r.choice(WORDS)
        app = f"{part_of}-{self.r.choice(WORDS)}-{index}"
        ns = self.r.choice(NAMESPACES)
        shape = self.r.choices(["web", "stateful", "agent", "job", "cron"], [55, 15, 8, 10, 12])[0]
        objects = []
        if shape == "web":
            port = self.r.choice([8080, 8000, 3000, 9000])
            objects.append(("configmap", self.config_map(app, ns, part_of)))
            objects.append(("deployment", self.deployment(app, ns, part_of, port)))
            objects.append(("service", self.service(app, ns, part_of, port)))
            if self.chance(0.4):
                objects.append(("ingress", self.ingress(app, ns, part_of)))
        elif shape == "stateful":
            stateful_set, port = self.stateful_set(app, ns, part_of)
            objects.append(("service", self.service(app, ns, part_of, port, headless=True)))
            objects.append(("statefulset", stateful_set))
            if self.chance(0.5):
                objects.append(("configmap", self.config_map(app, ns, part_of)))
        elif shape == "agent":
            if self.chance(0.6):
                objects.append(("configmap", self.config_map(app, ns or "kube-system", part_of)))
            objects.append(("daemonset", self.daemon_set(app, ns, part_of)))
        else:
            if self.chance(0.5):
                objects.append(("configmap", self.config_map(app, ns, part_of)))
            objects.append((shape + "job" if shape == "cron" else "job",
                            (self.cron_job if shape == "cron" else self.job)(app, ns, part_of)))
        return app, ns or "default", objects


def write_corpus(out_dir, count, seed):
    gen = Gen(seed)
    written = files = index = 0
    while written < count:
        app, ns, objects = gen.application(index)
        objects = objects[: count - written]
        seq_indent = gen.chance(0.6)
        folder = os.path.join(out_dir, ns)
        if gen.chance(0.6):
            texts = [document(obj, seq_indent, f"{stem} of {app}" if i == 0 else None)
                     for i, (stem, obj) in enumerate(objects)]
            paths = [(os.path.join(folder, f"{app}.yaml"), "---\n".join(texts))]
        else:
            paths = [(os.path.join(folder, app, f"{stem}.yaml"), document(obj, seq_indent))
                     for stem, obj in objects]
        for path, text in paths:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            files += 1
        written += len(objects)
        index += 1
    return written, files


ONE_DEPLOYMENT = """\
# The checkout API: what a team's pre-commit hook sees on most commits.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout-api
  namespace: checkout
  labels:
    app.kubernetes.io/name: checkout-api
    app.kubernetes.io/part-of: checkout
    app.kubernetes.io/version: "3.14.2"
  annotations:
    owner: checkout@example.com
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: checkout-api
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: checkout-api
        app.kubernetes.io/part-of: checkout
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9102"
    spec:
      serviceAccountName: checkout-api
      securityContext:
        runAsNonRoot: true
        fsGroup: 2000
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: checkout-api
          image: registry.example.com/checkout/checkout-api:3.14.2
          args: ["--port=8080", "--config=/etc/app/config.yaml"]
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
            - name: DATABASE_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: checkout-db
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
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 10
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsUser: 10001
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
            limits:
              memory: 64Mi
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]
      volumes:
        - name: config
          configMap:
            name: checkout-api-config
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="output directory (or file, with --one-deployment)")
    parser.add_argument("count", nargs="?", type=int, help="exact number of objects")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--one-deployment", action="store_true")
    args = parser.parse_args()
    if args.one_deployment:
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            f.write(ONE_DEPLOYMENT)
        return
    if args.count is None or args.count < 0:
        parser.error("COUNT is required (a number of objects)")
    written, files = write_corpus(args.out, args.count, args.seed)
    print(f"{written} objects in {files} files", file=sys.stderr)


if __name__ == "__main__":
    main()
