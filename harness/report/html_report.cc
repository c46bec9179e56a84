#include "harness/report/html_report.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "harness/report/safe_text.h"

namespace harness {

namespace {

constexpr const char* kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { margin-bottom: 0.2em; }
.env, .meta { color: #555; }
.status { display: inline-block; min-width: 4em; padding: 0 0.4em; border-radius: 3px; color: #fff; text-align: center; font-weight: bold; }
.PASS { background: #2e7d32; } .FAIL { background: #c62828; } .ERROR { background: #ef6c00; } .SKIP { background: #757575; }
section.run { border-top: 1px solid #ccc; margin-top: 1.5em; }
div.expectation { margin: 1em 0 1em 1em; }
pre { background: #f5f5f5; padding: 0.6em; overflow-x: auto; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
rect.bar { fill: #1976d2; } line.expected { stroke: #c62828; stroke-width: 2; }
table.runs td { padding: 0 0.6em; }
)";

constexpr int kBarWidth = 360, kRowHeight = 22;

// Wide enough for the longest pod name (about 7 px a character at 12 px).
int label_width(const std::set<std::string>& pods) {
  size_t longest = 0;
  for (const auto& p : pods) longest = std::max(longest, p.size());
  return std::clamp(static_cast<int>(longest) * 7 + 12, 80, 480);
}

std::string status_badge(Status s) { return fmt::format("<span class=\"status {0}\">{0}</span>", to_string(s)); }

std::string outcomes_text(const CheckResult& c) {
  std::string s;
  for (const auto& [o, n] : c.outcomes) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", n, to_string(o));
  return s.empty() ? "no probe" : s;
}

// One bar per backend that answered or should have: its replies, and a red
// mark at the count its share predicts.
std::string chart(const CheckResult& c) {
  std::set<std::string> pods;
  for (const auto& [pod, n] : c.backends) pods.insert(pod);
  for (const auto& [pod, n] : c.expected) pods.insert(pod);
  if (pods.empty()) return "";
  double scale = 1;
  for (const auto& [pod, n] : c.backends) scale = std::max(scale, static_cast<double>(n));
  for (const auto& [pod, n] : c.expected) scale = std::max(scale, n);
  int height = kRowHeight * static_cast<int>(pods.size()) + 4;
  const int label_w = label_width(pods);
  std::string out =
      fmt::format("<svg class=\"chart\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"replies per backend\">\n",
                  label_w + kBarWidth + 80, height);
  int y = 2;
  for (const auto& pod : pods) {
    uint64_t count = c.backends.count(pod) ? c.backends.at(pod) : 0;
    bool has_expected = c.expected.count(pod);
    double want = has_expected ? c.expected.at(pod) : 0;
    int w = static_cast<int>(count / scale * kBarWidth + 0.5);
    out += fmt::format("<g class=\"backend\" data-backend=\"{}\" data-count=\"{}\"{}>", html_escape(pod), count,
                       has_expected ? fmt::format(" data-expected=\"{:.1f}\"", want) : "");
    out += fmt::format("<title>{}: {} replies{}</title>", html_escape(pod), count,
                       has_expected ? fmt::format(", {:.1f} expected", want) : "");
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", label_w - 6, y + 15, html_escape(pod));
    out += fmt::format("<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", label_w, y + 3, w,
                       kRowHeight - 6);
    if (has_expected) {
      int x = label_w + static_cast<int>(want / scale * kBarWidth + 0.5);
      out += fmt::format("<line class=\"expected\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", x, y,
                         y + kRowHeight);
    }
    out += fmt::format("<text class=\"count\" x=\"{}\" y=\"{}\">{}</text></g>\n", label_w + kBarWidth + 6, y + 15,
                       count);
    y += kRowHeight;
  }
  return out + "</svg>\n";
}

std::string expectation_html(const PlannedExpectation& pe, const CaseRun& run) {
  const Expectation& e = *pe.expectation;
  Status status = pe.result ? pe.result->check.status : Status::Skip;
  std::string out = fmt::format("<div class=\"expectation\" data-name=\"{}\" data-status=\"{}\">\n<h3>{} {}</h3>\n",
                                html_escape(expectation_name(e)), to_string(status), status_badge(status),
                                html_escape(expectation_name(e)));
  std::string wanted = to_string(expected_verdict(e, run.generator, run.mode));
  out += fmt::format("<p class=\"meta\">{} &#8594; {} {}, expected {} ({}:{})</p>\n", html_escape(e.from.str()),
                     html_escape(e.to.str()), to_string(e.protocol), wanted, html_escape(e.where.file), e.where.line);
  if (!pe.result) return out + fmt::format("<p class=\"not-run\">not run: {}</p>\n</div>\n", html_escape(pe.not_run));
  const CheckResult& c = pe.result->check;
  out += fmt::format("<p class=\"verdict\">{}", html_escape(c.summary));
  if (c.p_value >= 0)
    out += fmt::format(
        " &#183; <span class=\"p-value\" data-p=\"{:.6g}\">p-value {:.3g}</span> at false-failure rate {:.0e}",
        c.p_value, c.p_value, c.alpha);
  out += fmt::format(" &#183; observed: {}</p>\n", html_escape(outcomes_text(c)));
  out += chart(c);
  if (c.status != Status::Pass && !c.detail.empty())
    out += fmt::format("<pre class=\"diagnosis\">{}</pre>\n", html_escape(c.detail));
  return out + "</div>\n";
}

std::string run_html(const CaseRun& run, size_t index) {
  std::string out = fmt::format(
      "<section class=\"run\" id=\"run-{}\" data-case=\"{}\" data-generator=\"{}\" data-status=\"{}\">\n"
      "<h2>{} {} ({})</h2>\n<p class=\"meta\">{} &#183; {} probes &#183; {:.2f} s</p>\n",
      index, html_escape(run.case_name), html_escape(run.generator), to_string(run.status), status_badge(run.status),
      html_escape(run.case_name), html_escape(run.generator), html_escape(run.file), run.probes,
      static_cast<double>(run.total.count()) / 1e6);
  if (!run.error.empty()) out += fmt::format("<pre class=\"error\">{}</pre>\n", html_escape(run.error));
  for (const auto& pe : planned_expectations(run)) out += expectation_html(pe, run);
  if (!run.diagnosis.empty())
    out += fmt::format("<h3>Where the packets went (rule hit counters)</h3>\n<pre class=\"rules\">{}</pre>\n",
                       html_escape(run.diagnosis));
  return out + "</section>\n";
}

std::string header(const Report& report) {
  const auto& env = report.env;
  std::string out = fmt::format(
      "<header>\n<h1>kpath report</h1>\n<p class=\"env\">{} &#183; {} &#183; kernel {} &#183; {} &#183; {} &#183; {}"
      " &#183; started {:%Y-%m-%d %H:%M:%S} UTC, {:.1f} s{}</p>\n</header>\n",
      html_escape(env.kpath_version), html_escape(env.hostname), html_escape(env.host.kernel),
      html_escape(env.host.iptables_nft), html_escape(env.host.iptables_legacy), html_escape(env.host.nft),
      std::chrono::time_point_cast<std::chrono::seconds>(env.started), static_cast<double>(env.elapsed.count()) / 1e6,
      report.interrupted ? " &#183; <strong>interrupted</strong>" : "");
  out += "<table class=\"runs\">\n";
  for (const auto& le : report.load_errors)
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>case file rejected</td></tr>\n", status_badge(Status::Error),
                       html_escape(le.file));
  for (size_t i = 0; i < report.runs.size(); ++i)
    out += fmt::format("<tr><td>{}</td><td><a href=\"#run-{}\">{}</a></td><td>{}</td></tr>\n",
                       status_badge(report.runs[i].status), i + 1, html_escape(report.runs[i].case_name),
                       html_escape(report.runs[i].generator));
  return out + "</table>\n";
}

}  // namespace

std::string html_report(const Report& report) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      // Nothing may be fetched or run: the page stands alone.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<title>kpath report</title>\n<style>" +
      std::string(kStyle) + "</style>\n</head>\n<body>\n" + header(report);
  for (const auto& le : report.load_errors)
    out += fmt::format("<section class=\"load-error\"><h2>{} {}</h2><pre>{}</pre></section>\n",
                       status_badge(Status::Error), html_escape(le.file), html_escape(le.message));
  for (size_t i = 0; i < report.runs.size(); ++i) out += run_html(report.runs[i], i + 1);
  return out + "</body>\n</html>\n";
}

}  // namespace harness
