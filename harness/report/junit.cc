#include "harness/report/junit.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <pugixml.hpp>
#include <sstream>

#include "harness/report/safe_text.h"

namespace harness {

namespace {

// Every string reaches the document through these two, so none can carry a
// character XML forbids.
void attr(pugi::xml_node node, const char* name, const std::string& value) {
  node.append_attribute(name).set_value(xml_safe(value).c_str());
}
void text(pugi::xml_node node, const std::string& value) { node.text().set(xml_safe(value).c_str()); }

std::string seconds(std::chrono::microseconds us) {
  return fmt::format("{:.3f}", static_cast<double>(us.count()) / 1e6);
}

std::string timestamp(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  void add(const Counts& o) {
    tests += o.tests;
    failures += o.failures;
    errors += o.errors;
    skipped += o.skipped;
  }
};

void set_counts(pugi::xml_node node, const Counts& c) {
  attr(node, "tests", std::to_string(c.tests));
  attr(node, "failures", std::to_string(c.failures));
  attr(node, "errors", std::to_string(c.errors));
  attr(node, "skipped", std::to_string(c.skipped));
}

pugi::xml_node suite(pugi::xml_node root, const std::string& name, const Report& report) {
  auto s = root.append_child("testsuite");
  attr(s, "name", name);
  attr(s, "timestamp", timestamp(report.env.started));
  attr(s, "hostname", report.env.hostname);
  return s;
}

void properties(pugi::xml_node suite, const Report& report,
                const std::vector<std::pair<std::string, std::string>>& more) {
  auto props = suite.append_child("properties");
  auto add = [&](const std::string& name, const std::string& value) {
    auto p = props.append_child("property");
    attr(p, "name", name);
    attr(p, "value", value);
  };
  const auto& host = report.env.host;
  add("kpath.version", report.env.kpath_version);
  add("kernel", host.kernel);
  add("iptables-nft", host.iptables_nft);
  add("iptables-legacy", host.iptables_legacy);
  add("nft", host.nft);
  add("interrupted", report.interrupted ? "true" : "false");
  for (const auto& [name, value] : more) add(name, value);
}

pugi::xml_node testcase(pugi::xml_node suite, const std::string& classname, const std::string& name,
                        std::chrono::microseconds time) {
  auto tc = suite.append_child("testcase");
  attr(tc, "classname", classname);
  attr(tc, "name", name);
  attr(tc, "time", seconds(time));
  return tc;
}

void outcome(pugi::xml_node tc, const char* kind, const std::string& message, const std::string& body) {
  auto node = tc.append_child(kind);
  attr(node, "message", message);
  if (!body.empty()) text(node, body);
}

Counts load_error_suite(pugi::xml_node root, const LoadError& le, const Report& report) {
  auto s = suite(root, le.file, report);
  properties(s, report, {});
  outcome(testcase(s, "kpath.load", "load", {}), "error", "case file rejected", le.message);
  Counts c{1, 0, 1, 0};
  set_counts(s, c);
  attr(s, "time", "0");
  return c;
}

// A run: a testcase per planned expectation, and one for the error that
// stopped it, if any.
Counts run_suite(pugi::xml_node root, const CaseRun& run, const Report& report) {
  std::string classname = run.case_name + "." + run.generator;
  auto s = suite(root, classname, report);
  attr(s, "file", run.file);
  properties(s, report,
             {{"generator", run.generator}, {"mode", to_string(run.mode)}, {"status", to_string(run.status)}});
  Counts c;
  if (run.status == Status::Error) {
    outcome(testcase(s, classname, "setup", run.total), "error", run.error.substr(0, run.error.find('\n')), run.error);
    ++c.tests;
    ++c.errors;
  }
  for (const auto& pe : planned_expectations(run)) {
    ++c.tests;
    auto tc = testcase(s, classname, expectation_name(*pe.expectation),
                       pe.result ? pe.result->elapsed : std::chrono::microseconds{});
    if (!pe.result) {
      outcome(tc, "skipped", pe.not_run, "");
      ++c.skipped;
    } else if (pe.result->check.status == Status::Fail) {
      outcome(tc, "failure", pe.result->check.summary, pe.result->check.detail + "\n" + pe.result->diagnosis);
      ++c.failures;
    }
  }
  set_counts(s, c);
  attr(s, "time", seconds(run.total));
  return c;
}

}  // namespace

std::string junit_xml(const Report& report) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto root = doc.append_child("testsuites");
  attr(root, "name", "kpath");
  Counts total;
  for (const auto& le : report.load_errors) total.add(load_error_suite(root, le, report));
  for (const auto& run : report.runs) total.add(run_suite(root, run, report));
  set_counts(root, total);
  attr(root, "time", seconds(report.env.elapsed));
  attr(root, "timestamp", timestamp(report.env.started));
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_indent, pugi::encoding_utf8);
  return out.str();
}

}  // namespace harness
