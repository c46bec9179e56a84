// objectsFrom: manifests as people keep them (multi-document YAML, kubectl's
// List with its server-filled fields, Deployments), errors at the manifest's lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"
#include "harness/cases/case_loader.h"
#include "temp_dir.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;

std::string case_text(const std::string& objects_from, const std::string& extra = "") {
  return R"(apiVersion: kpath/v1
kind: Case
name: manifests
cluster:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  nodes:
    - name: n1
      ip: 192.168.10.1
      podCIDR: 10.244.1.0/24
      pods:
        - {name: db-0, ip: 10.244.1.50, labels: {app: db}, listen: [{port: 5432}]}
    - name: n2
      ip: 192.168.10.2
      podCIDR: 10.244.2.0/24
  externals:
    - {name: client, ip: 192.168.10.100}
objectsFrom: )" +
         objects_from + "\n" + extra + R"(expect:
  - {from: client, to: 'n1:30080'}
)";
}

// The Service comes after its slice; the second document's slice names the
// pod declared in the case.
const std::string kMultiDocument = R"(---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-abcde
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{port: 5432, protocol: TCP}]
endpoints:
  - addresses: [10.244.1.50]
    targetRef: {kind: Pod, name: db-0}
---
# the Service
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: NodePort
  clusterIP: 10.96.0.20
  ports: [{port: 5432, nodePort: 30080}]
---
)";

TEST(ManifestFiles, MultiDocumentFileWithSliceBeforeItsService) {
  kpath_test::TempDir dir;
  dir.write("objects/db.yaml", kMultiDocument);
  Case c = load_case(dir.write("case.yaml", case_text("[objects/db.yaml]")));
  ASSERT_NE(c.cluster.service("default", "db"), nullptr);
  auto slices = c.cluster.slices_for(*c.cluster.service("default", "db"));
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0]->name, "db-abcde");
  ASSERT_EQ(slices[0]->endpoints.size(), 1u);
  EXPECT_EQ(slices[0]->endpoints[0].pod_name, "db-0");
  EXPECT_EQ(slices[0]->endpoints[0].node_name, "n1");
}

// What `kubectl get svc,endpointslices -o yaml` prints, noise included.
const std::string kKubectlList = R"(apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"v1","kind":"Service","metadata":{"annotations":{},"name":"db","namespace":"default"}}
    creationTimestamp: "2026-11-30T09:12:44Z"
    labels:
      app: db
    managedFields:
    - apiVersion: v1
      fieldsType: FieldsV1
      fieldsV1:
        f:spec:
          f:ports: {}
      manager: kubectl-client-side-apply
      operation: Update
      time: "2026-11-30T09:12:44Z"
    name: db
    namespace: default
    resourceVersion: "48213"
    uid: 3f6f1c8e-5b43-4f0e-9f6b-0b1d2a7c9e11
  spec:
    clusterIP: 10.96.0.20
    clusterIPs:
    - 10.96.0.20
    externalTrafficPolicy: Cluster
    internalTrafficPolicy: Cluster
    ipFamilies:
    - IPv4
    ipFamilyPolicy: SingleStack
    ports:
    - nodePort: 30080
      port: 5432
      protocol: TCP
      targetPort: 5432
    selector:
      app: db
    sessionAffinity: None
    type: NodePort
  status:
    loadBalancer: {}
- addressType: IPv4
  apiVersion: discovery.k8s.io/v1
  endpoints:
  - addresses:
    - 10.244.1.50
    conditions:
      ready: true
      serving: true
      terminating: false
    nodeName: n1
    targetRef:
      kind: Pod
      name: db-0
      namespace: default
      uid: 0c2d4e61-1f7a-4c55-8d4e-2b8f7e0a9d33
  kind: EndpointSlice
  metadata:
    annotations:
      endpoints.kubernetes.io/last-change-trigger-time: "2026-11-30T09:12:50Z"
    creationTimestamp: "2026-11-30T09:12:44Z"
    generateName: db-
    generation: 2
    labels:
      endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
      kubernetes.io/service-name: db
    name: db-7xq2p
    namespace: default
    ownerReferences:
    - apiVersion: v1
      blockOwnerDeletion: true
      controller: true
      kind: Service
      name: db
      uid: 3f6f1c8e-5b43-4f0e-9f6b-0b1d2a7c9e11
    resourceVersion: "48240"
    uid: 6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d
  ports:
  - name: ""
    port: 5432
    protocol: TCP
kind: List
metadata:
  resourceVersion: ""
)";

TEST(ManifestFiles, KubectlListWithServerFieldsLoads) {
  kpath_test::TempDir dir;
  dir.write("kubectl.yaml", kKubectlList);
  Case c = load_case(dir.write("case.yaml", case_text("[kubectl.yaml]")));
  const Service* s = c.cluster.service("default", "db");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type, ServiceType::NodePort);
  ASSERT_EQ(s->ports.size(), 1u);
  EXPECT_EQ(s->ports[0].node_port, 30080);
  auto slices = c.cluster.slices_for(*s);
  ASSERT_EQ(slices.size(), 1u) << "the explicit slice replaces the derived one";
  EXPECT_EQ(slices[0]->name, "db-7xq2p");
  EXPECT_EQ(slices[0]->endpoints.at(0).pod_name, "db-0");
}

const std::string kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  uid: 11111111-2222-3333-4444-555555555555
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy: {type: RollingUpdate}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
          resources: {limits: {cpu: 100m}}
          ports:
            - {containerPort: 8080, name: http}
            - {containerPort: 8443, protocol: TCP}
status:
  replicas: 3
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  clusterIP: 10.96.0.30
  selector: {app: web}
  ports: [{port: 80, targetPort: http, nodePort: 30080}]
)";

TEST(ManifestFiles, DeploymentPodsArePlacedRoundRobinAndSelected) {
  kpath_test::TempDir dir;
  dir.write("web.yaml", kDeployment);
  Case c = load_case(dir.write("case.yaml", case_text("[web.yaml]")));
  ASSERT_NE(c.cluster.pod("web-0"), nullptr);
  ASSERT_NE(c.cluster.pod("web-2"), nullptr);
  EXPECT_EQ(c.cluster.pod("web-3"), nullptr);
  EXPECT_EQ(c.cluster.pod("web-0")->node, "n1");
  EXPECT_EQ(c.cluster.pod("web-1")->node, "n2");
  EXPECT_EQ(c.cluster.pod("web-2")->node, "n1");
  // Each from its node's podCIDR, never an address already taken.
  EXPECT_TRUE(Cidr::parse("10.244.1.0/24")->contains(c.cluster.pod("web-0")->ips.at(0)));
  EXPECT_TRUE(Cidr::parse("10.244.2.0/24")->contains(c.cluster.pod("web-1")->ips.at(0)));
  EXPECT_NE(c.cluster.pod("web-0")->ips.at(0), c.cluster.pod("web-2")->ips.at(0));
  EXPECT_EQ(c.cluster.pod("web-1")->listen.size(), 2u);
  const Service* s = c.cluster.service("default", "web");
  ASSERT_NE(s, nullptr);
  size_t endpoints = 0;
  for (const auto* sl : c.cluster.slices_for(*s)) {
    endpoints += sl->endpoints.size();
    EXPECT_EQ(sl->ports.at(0).port, 8080) << "the named targetPort resolves through the container port";
  }
  EXPECT_EQ(endpoints, 3u);
}

std::string load_error(const std::string& case_yaml, const std::string& file, const std::string& manifest) {
  kpath_test::TempDir dir;
  dir.write(file, manifest);
  try {
    load_case(dir.write("case.yaml", case_yaml));
  } catch (const kpath::Error& e) {
    std::string what = e.what();
    auto at = what.find(dir.path());
    return at == std::string::npos ? what : what.erase(at, dir.path().size() + 1);
  }
  return "(loaded)";
}

TEST(ManifestFiles, ErrorsNameTheManifestsLine) {
  // Line 20 of the file, in its second document: a port out of range.
  std::string bad = kMultiDocument;
  bad.replace(bad.find("5432, nodePort"), 4, "99999");
  EXPECT_THAT(load_error(case_text("[db.yaml]"), "db.yaml", bad), HasSubstr("db.yaml:20:18: 'port' must be"));
  EXPECT_THAT(load_error(case_text("[db.yaml]"), "db.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"),
              HasSubstr("db.yaml:1:1: unsupported object v1 Pod"));
  EXPECT_THAT(load_error(case_text("[db.yaml]"), "db.yaml", "apiVersion: v1\nkind: List\nitems: []\n---\nkind: [\n"),
              HasSubstr("db.yaml:6:1: YAML syntax error"));
}

TEST(ManifestFiles, MissingFileIsReportedAtTheCaseLine) {
  EXPECT_THAT(load_error(case_text("[nothere.yaml]"), "other.yaml", ""), HasSubstr("case.yaml:18:15: 'objectsFrom': "));
  EXPECT_THAT(load_error(case_text("[nothere.yaml]"), "other.yaml", ""),
              HasSubstr("relative to the case file's folder"));
}

TEST(ManifestFiles, DeploymentSelectorMustMatchItsTemplate) {
  std::string bad = kDeployment;
  bad.replace(bad.find("matchLabels: {app: web}"), 23, "matchLabels: {app: api}");
  EXPECT_THAT(load_error(case_text("[web.yaml]"), "web.yaml", bad),
              HasSubstr("web.yaml:9:5: selector matchLabels app=api does not match the template's labels"));
}

TEST(ManifestFiles, AServiceInBothPlacesIsADuplicate) {
  std::string inline_objects = R"(objects:
  - {apiVersion: v1, kind: Service, metadata: {name: db}, spec: {clusterIP: 10.96.0.21, ports: [{port: 1}]}}
)";
  EXPECT_THAT(load_error(case_text("[db.yaml]", inline_objects), "db.yaml", kMultiDocument),
              HasSubstr("duplicate Service 'default/db'"));
}

}  // namespace
