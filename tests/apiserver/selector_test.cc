#include "harness/apiserver/selector.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace {

using harness::apiserver::FieldSelector;
using harness::apiserver::Labels;
using harness::apiserver::LabelSelector;

const std::vector<std::string> kFields = {"metadata.name", "metadata.namespace"};

bool selects(const std::string& selector, const Labels& labels) {
  return LabelSelector::parse(selector).matches(labels);
}

TEST(LabelSelector, EmptySelectsEverything) {
  EXPECT_TRUE(LabelSelector::parse("").empty());
  EXPECT_TRUE(selects("", {}));
  EXPECT_TRUE(selects("  ", {{"a", "b"}}));
}

// What kube-proxy sends for Services and EndpointSlices.
TEST(LabelSelector, KubeProxysSelectorSkipsHeadlessAndOtherProxies) {
  const std::string s = "!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name";
  auto sel = LabelSelector::parse(s);
  ASSERT_EQ(sel.requirements().size(), 2u);
  EXPECT_EQ(sel.requirements()[0].key, "service.kubernetes.io/headless");
  EXPECT_EQ(sel.requirements()[0].op, LabelSelector::Op::DoesNotExist);
  EXPECT_TRUE(selects(s, {}));
  EXPECT_TRUE(selects(s, {{"kubernetes.io/service-name", "web"}}));
  EXPECT_FALSE(selects(s, {{"service.kubernetes.io/headless", ""}}));
  EXPECT_FALSE(selects(s, {{"service.kubernetes.io/service-proxy-name", "other"}}));
}

TEST(LabelSelector, ExistsAndEquality) {
  EXPECT_TRUE(selects("app", {{"app", ""}}));
  EXPECT_FALSE(selects("app", {{"tier", "x"}}));
  EXPECT_TRUE(selects("app=web", {{"app", "web"}}));
  EXPECT_TRUE(selects("app==web", {{"app", "web"}}));
  EXPECT_TRUE(selects("app = web", {{"app", "web"}}));
  EXPECT_FALSE(selects("app=web", {{"app", "db"}}));
  EXPECT_FALSE(selects("app=web", {}));
  EXPECT_TRUE(selects("app=", {{"app", ""}}));
  EXPECT_FALSE(selects("app=", {{"app", "x"}}));
}

// != and notin also select objects without the key, as Kubernetes does.
TEST(LabelSelector, InequalityAndSets) {
  EXPECT_TRUE(selects("app!=web", {{"app", "db"}}));
  EXPECT_TRUE(selects("app!=web", {}));
  EXPECT_FALSE(selects("app!=web", {{"app", "web"}}));
  EXPECT_TRUE(selects("env in (prod, qa)", {{"env", "qa"}}));
  EXPECT_FALSE(selects("env in (prod,qa)", {{"env", "dev"}}));
  EXPECT_FALSE(selects("env in (prod,qa)", {}));
  EXPECT_TRUE(selects("env notin (prod,qa)", {{"env", "dev"}}));
  EXPECT_TRUE(selects("env notin (prod,qa)", {}));
  EXPECT_FALSE(selects("env notin (prod,qa)", {{"env", "prod"}}));
}

TEST(LabelSelector, RequirementsAreAnded) {
  const std::string s = "app=web, env in (prod), !canary, tier!=db";
  EXPECT_EQ(LabelSelector::parse(s).requirements().size(), 4u);
  EXPECT_TRUE(selects(s, {{"app", "web"}, {"env", "prod"}}));
  EXPECT_FALSE(selects(s, {{"app", "web"}, {"env", "prod"}, {"canary", "1"}}));
  EXPECT_FALSE(selects(s, {{"app", "web"}, {"env", "prod"}, {"tier", "db"}}));
}

TEST(LabelSelector, GreaterAndLessThan) {
  EXPECT_TRUE(selects("weight>5", {{"weight", "6"}}));
  EXPECT_FALSE(selects("weight>5", {{"weight", "5"}}));
  EXPECT_FALSE(selects("weight>5", {{"weight", "x"}}));
  EXPECT_TRUE(selects("weight<5", {{"weight", "-1"}}));
  EXPECT_FALSE(selects("weight<5", {}));
}

TEST(LabelSelector, UnknownSyntaxThrows) {
  for (const char* bad : {"app in (a", "app in ()", "app in a", "=web", "app=web=x", "!", "app,", "a b", "app>x",
                          "app notin", "app==(x)", "k/e/y", "ke y=1", "app=we$b"})
    EXPECT_THROW(LabelSelector::parse(bad), kpath::Error) << bad;
}

TEST(FieldSelector, NameAndNamespace) {
  auto sel = FieldSelector::parse("metadata.name=web,metadata.namespace!=kube-system", kFields);
  ASSERT_EQ(sel.requirements().size(), 2u);
  EXPECT_TRUE(sel.matches({{"metadata.name", "web"}, {"metadata.namespace", "default"}}));
  EXPECT_FALSE(sel.matches({{"metadata.name", "web"}, {"metadata.namespace", "kube-system"}}));
  EXPECT_FALSE(sel.matches({{"metadata.name", "db"}, {"metadata.namespace", "default"}}));
  EXPECT_TRUE(FieldSelector::parse("metadata.name==web", kFields).matches({{"metadata.name", "web"}}));
  EXPECT_TRUE(FieldSelector::parse("", kFields).empty());
}

TEST(FieldSelector, EscapedValues) {
  auto sel = FieldSelector::parse(R"(metadata.name=a\,b\=c\\d)", kFields);
  ASSERT_EQ(sel.requirements().size(), 1u);
  EXPECT_EQ(sel.requirements()[0].value, R"(a,b=c\d)");
}

TEST(FieldSelector, UnsupportedFieldOrSyntaxThrows) {
  EXPECT_THROW(FieldSelector::parse("spec.clusterIP=10.0.0.1", kFields), kpath::Error);
  EXPECT_THROW(FieldSelector::parse("metadata.name", kFields), kpath::Error);
  EXPECT_THROW(FieldSelector::parse("metadata.name=a=b", kFields), kpath::Error);
  EXPECT_THROW(FieldSelector::parse(R"(metadata.name=a\x)", kFields), kpath::Error);
  try {
    FieldSelector::parse("spec.type=NodePort", kFields);
  } catch (const kpath::Error& e) {
    EXPECT_STREQ(e.what(), "field label not supported: spec.type");
  }
}

}  // namespace
