// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// What ufc-agentd shows, seen by real consumers: Debian's Prometheus scrapes its /metrics
// under load and its HTTP API returns per-backend counts equal to what the backends
// served; promtool lints the exposition; headless Chromium renders the status page,
// which shows a refusing backend banned with its reason and a fuse chart that moves
// during an overload (a screenshot is left in the build folder). Every process is started
// here, on loopback ephemeral ports, and killed by PID.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/agent/http_test_peers.h"
#include "tests/metad/metad_process.h"

namespace ufc {
namespace {

using google::protobuf::Struct;
using testing::DeadPort;
using testing::HttpMessage;
using testing::ServerProcess;
using testing::service_json;
using testing::TempDir;
using testing::TestBackend;

bool executable(const char* path) { return ::access(path, X_OK) == 0; }

// A child process with its output in `log`, killed by PID when this goes.
class Child {
 public:
  Child(std::vector<std::string> argv, std::string log) : log_(std::move(log)) {
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (std::freopen(log_.c_str(), "a", stderr) == nullptr ||
          std::freopen(log_.c_str(), "a", stdout) == nullptr) {
        ::_exit(126);
      }
      std::vector<char*> c;
      for (std::string& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      ::execv(c[0], c.data());
      ::_exit(127);
    }
  }
  ~Child() { testing::stop_child(pid_, SIGTERM, 3000); }
  bool alive() const {
    int status = 0;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

// Runs `argv` to completion (at most `timeout_s`), feeding `input`; returns its exit code
// and output.
int run(const std::vector<std::string>& argv, const std::string& input, std::string* output,
        int timeout_s = 60) {
  TempDir dir;
  const std::string in = dir.path() + "/in", out = dir.path() + "/out";
  std::ofstream(in) << input;
  std::string cmd = "timeout " + std::to_string(timeout_s);
  for (const std::string& a : argv) cmd += " '" + a + "'";
  cmd += " < '" + in + "' > '" + out + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream o(out);
  std::stringstream s;
  s << o.rdbuf();
  *output = s.str();
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// An agent with these services; its proxy and admin views on ephemeral ports.
class Agent {
 public:
  explicit Agent(const std::vector<std::string>& services, std::vector<std::string> flags = {}) {
    std::string list;
    for (const std::string& s : services) absl::StrAppend(&list, list.empty() ? "" : ",", s);
    const std::string config = dir_.path() + "/ufc.json";
    std::ofstream(config) << "{\"services\":[" << list << "]}";
    flags.push_back("--config=" + config);
    flags.push_back("--self_service=observer");
    ok_ = process_.start(flags);
  }
  std::string dir() const { return dir_.path(); }
  bool ok() const { return ok_; }
  int proxy_port() const { return process_.port_from("proxy.port"); }
  int admin_port() const { return process_.port_from("admin.port"); }
  std::string log() const { return process_.log(); }
  HttpMessage get(const std::string& path) const {
    return testing::http_request(admin_port(), testing::get_request(path, ""));
  }

 private:
  TempDir dir_;
  ServerProcess process_{UFC_AGENTD_BIN};
  bool ok_ = false;
};

HttpMessage through(const Agent& agent, const std::string& service,
                    const std::string& more_headers = "") {
  return testing::http_request(
      agent.proxy_port(),
      testing::get_request("/", "x-ufc-service-name: " + service + "\r\n" + more_headers));
}

// Debian's Prometheus, scraping `target` every second.
class Prometheus {
 public:
  explicit Prometheus(const std::string& target) {
    const std::string config = dir_.path() + "/prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "scrape_configs:\n  - job_name: ufc-agentd\n"
                          << "    static_configs:\n      - targets: ['" << target << "']\n";
    // Asked of the OS, then bound by Prometheus: another process may take it meanwhile,
    // so a start that does not come up is retried on another port.
    for (int attempt = 0; attempt < 3 && port_ == 0; ++attempt) {
      const int port = testing::free_port();
      child_ = std::make_unique<Child>(
          std::vector<std::string>{
              "/usr/bin/prometheus", "--config.file=" + config,
              "--storage.tsdb.path=" + dir_.path() + "/data" + std::to_string(attempt),
              "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
          dir_.path() + "/log");
      for (int i = 0; i < 300 && child_->alive(); ++i) {
        HttpMessage m = testing::http_request(port, testing::get_request("/-/ready", ""), 1000);
        if (m.status == 200) {
          port_ = port;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  int port() const { return port_; }
  std::string log() const { return child_ ? child_->log() : ""; }

  // The instant vector of `query`, as (labels, value) pairs; empty on any failure.
  std::vector<std::pair<Struct, double>> query(const std::string& q) const {
    std::string encoded;
    for (unsigned char c : q) {
      if (std::isalnum(c) || c == '_') {
        encoded += static_cast<char>(c);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += hex;
      }
    }
    HttpMessage m =
        testing::http_request(port_, testing::get_request("/api/v1/query?query=" + encoded, ""));
    std::vector<std::pair<Struct, double>> out;
    Struct root;
    if (m.status != 200 || !google::protobuf::util::JsonStringToMessage(m.body, &root).ok()) {
      ADD_FAILURE() << q << ": " << m.status << " " << m.body;
      return out;
    }
    const auto& result = root.fields().at("data").struct_value().fields().at("result");
    for (const auto& r : result.list_value().values()) {
      const auto& f = r.struct_value().fields();
      out.emplace_back(f.at("metric").struct_value(),
                       std::stod(f.at("value").list_value().values(1).string_value()));
    }
    return out;
  }

 private:
  TempDir dir_;
  std::unique_ptr<Child> child_;
  int port_ = 0;
};

std::string label(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

TEST(ObservabilityTest, PrometheusScrapesTheAgentUnderLoadAndCountsMatchTheBackends) {
  if (!executable("/usr/bin/prometheus") || !executable("/usr/bin/promtool")) {
    GTEST_SKIP() << "Debian's prometheus is not installed (scripts/install-deps.sh)";
  }
  auto ok = [](TestBackend::Request& r) { return testing::respond(r.fd, 200, "ok"); };
  TestBackend b1(ok), b2(ok), b3(ok);
  TempDir logs;
  const std::string access_log = logs.path() + "/access.jsonl";
  Agent agent(
      {service_json("echo", {b1.address(), b2.address(), b3.address()}, ",\"tier\":\"online\"")},
      {"--access_log=" + access_log, "--access_log_sample=1"});
  ASSERT_TRUE(agent.ok()) << agent.log();
  Prometheus prometheus("127.0.0.1:" + std::to_string(agent.admin_port()));
  ASSERT_NE(prometheus.port(), 0) << prometheus.log();
  // The first scrape is in before the load starts, so that the load is seen growing.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    auto u = prometheus.query("up{job=\"ufc-agentd\"}");
    up = u.size() == 1 && u[0].second == 1;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(up) << prometheus.log();

  // Load from two threads for about three seconds: several scrapes see it grow.
  constexpr int kPerThread = 150;
  std::atomic<int> answered{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string headers =
            absl::StrCat("x-ufc-self-service-name: web\r\n", "x-request-id: req-", i, "\r\n");
        if (through(agent, "echo", headers).status == 200) ++answered;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  for (auto& t : load) t.join();
  const int sent = b1.requests() + b2.requests() + b3.requests();
  EXPECT_EQ(answered.load(), 2 * kPerThread);
  EXPECT_EQ(sent, 2 * kPerThread);

  // Prometheus' own view, once a scrape after the load is in.
  std::vector<std::pair<Struct, double>> ok_series;
  double total = 0;
  for (int i = 0; i < 100 && total != sent; ++i) {
    ok_series = prometheus.query("ufc_requests_total{service=\"echo\",outcome=\"ok\"}");
    total = 0;
    for (const auto& [labels, v] : ok_series) total += v;
    if (total != sent) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(total, sent) << prometheus.log();
  ASSERT_EQ(ok_series.size(), 3u);
  for (const auto& [labels, v] : ok_series) {
    const std::string endpoint = label(labels, "endpoint");
    const int served = endpoint == b1.address()   ? b1.requests()
                       : endpoint == b2.address() ? b2.requests()
                       : endpoint == b3.address() ? b3.requests()
                                                  : -1;
    EXPECT_EQ(v, served) << endpoint;
    EXPECT_EQ(label(labels, "caller"), "observer");
    EXPECT_EQ(label(labels, "job"), "ufc-agentd");
  }
  // The histogram counts every report; the rate over the load is visible.
  auto count = prometheus.query("sum(ufc_request_duration_seconds_count{service=\"echo\"})");
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count[0].second, sent);
  // A rate needs two samples of a series: poll until a later scrape is in.
  std::vector<std::pair<Struct, double>> p99;
  for (int i = 0; i < 50 && p99.empty(); ++i) {
    p99 = prometheus.query(
        "histogram_quantile(0.99, sum by (le) (rate(ufc_request_duration_seconds_bucket"
        "{service=\"echo\"}[1m])))");
    if (p99.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(p99.size(), 1u);
  EXPECT_GT(p99[0].second, 0);
  EXPECT_LT(p99[0].second, 1.0) << "loopback backends answer in well under a second";
  auto tier = prometheus.query("ufc_service_info{service=\"echo\",tier=\"online\"}");
  EXPECT_EQ(tier.size(), 1u);
  auto picks = prometheus.query("ufc_proxy_requests_total{listener=\"outbound\"}");
  ASSERT_EQ(picks.size(), 1u);
  EXPECT_GE(picks[0].second, sent);

  // Who the callers were: the agent's per-caller series, and its access log (every request
  // at --access_log_sample=1), both matching the backends.
  auto web = prometheus.query("ufc_agent_caller_requests_total{caller=\"web\",outcome=\"ok\"}");
  ASSERT_EQ(web.size(), 3u);
  for (const auto& [labels, v] : web) {
    const std::string endpoint = label(labels, "endpoint");
    EXPECT_EQ(v, endpoint == b1.address()   ? b1.requests()
                 : endpoint == b2.address() ? b2.requests()
                                            : b3.requests())
        << endpoint;
  }
  std::ifstream log(access_log);
  std::map<std::string, int> logged;
  int lines = 0, with_trace = 0;
  for (std::string line; std::getline(log, line); ++lines) {
    Struct entry;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &entry).ok()) << line;
    const auto& f = entry.fields();
    EXPECT_EQ(f.at("caller").string_value(), "web");
    EXPECT_EQ(f.at("service").string_value(), "echo");
    EXPECT_EQ(f.at("status").number_value(), 200);
    with_trace += f.at("trace_id").string_value().rfind("req-", 0) == 0 ? 1 : 0;
    const auto& attempts = f.at("attempts").list_value();
    ASSERT_EQ(attempts.values_size(), 1) << line;
    const auto& a = attempts.values(0).struct_value().fields();
    EXPECT_EQ(a.at("outcome").string_value(), "ok");
    ++logged[a.at("backend").string_value()];
  }
  EXPECT_EQ(lines, sent);
  EXPECT_EQ(with_trace, sent);
  EXPECT_EQ(logged[b1.address()], b1.requests());
  EXPECT_EQ(logged[b2.address()], b2.requests());

  // promtool's lint of the exposition.
  HttpMessage metrics = agent.get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  std::string lint;
  EXPECT_EQ(run({"/usr/bin/promtool", "check", "metrics"}, metrics.body, &lint), 0) << lint;
  EXPECT_EQ(lint, "") << lint;
}

// Chromium's DOM after the page's script ran (`--dump-dom`), or a screenshot.
std::string chromium(const std::string& url, const std::string& screenshot = "") {
  TempDir profile;
  std::vector<std::string> argv = {"/usr/bin/chromium",
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--user-data-dir=" + profile.path(),
                                   "--virtual-time-budget=4000",
                                   "--window-size=1400,1700"};
  if (screenshot.empty()) {
    argv.push_back("--dump-dom");
  } else {
    argv.push_back("--screenshot=" + screenshot);
  }
  argv.push_back(url);
  std::string out;
  run(argv, "", &out, 30);
  return out;
}

// The attribute `name` of the first element whose start tag contains `marker`.
std::string attribute_near(const std::string& dom, const std::string& marker,
                           const std::string& name) {
  const size_t at = dom.find(marker);
  if (at == std::string::npos) return "";
  const size_t tag = dom.rfind('<', at);
  const size_t end = dom.find('>', at);
  const std::string element = dom.substr(tag, end - tag);
  const size_t a = element.find(" " + name + "=\"");
  if (a == std::string::npos) return "";
  const size_t v = a + name.size() + 3;
  return element.substr(v, element.find('"', v) - v);
}

TEST(ObservabilityTest, TheStatusPageShowsABannedBackendAndAFuseChartThatMoves) {
  if (!executable("/usr/bin/chromium")) {
    GTEST_SKIP() << "Debian's chromium is not installed (scripts/install-deps.sh)";
  }
  auto ok = [](TestBackend::Request& r) { return testing::respond(r.fd, 200, "ok"); };
  TestBackend g1(ok), g2(ok), g3(ok);
  DeadPort dead_port;  // refuses connections
  const std::string dead = dead_port.address();

  Agent agent({service_json("echo", {g1.address(), g2.address(), dead, g3.address()},
                            ",\"fuse\":{\"enabled\":false}"),
               service_json("overload", {dead},
                            ",\"ban\":{\"enabled\":false},\"retry\":{\"max_attempts\":1},"
                            "\"fuse\":{\"interval\":\"0.1s\",\"min_requests\":5,\"step\":0.5}")});
  ASSERT_TRUE(agent.ok()) << agent.log();
  const std::string page = "http://127.0.0.1:" + std::to_string(agent.admin_port()) + "/";

  // The refusing backend gets banned.
  bool banned = false;
  for (int i = 0; i < 200 && !banned; ++i) {
    through(agent, "echo");
    banned = agent.log().find("ban echo " + dead) != std::string::npos;
  }
  ASSERT_TRUE(banned) << agent.log();

  // Before the overload: the page renders, the ban is shown with its reason, and the
  // overload service's chart has nothing dropped.
  std::string before = chromium(page);
  ASSERT_NE(before.find("data-loaded=\"1\""), std::string::npos) << before.substr(0, 2000);
  const std::string row = "data-address=\"" + dead + "\"";
  EXPECT_EQ(attribute_near(before, "class=\"endpoint\" data-service=\"echo\" " + row, "data-state"),
            "banned")
      << before;
  // The reason the agent gives (its JSON), as the page shows it.
  HttpMessage status = agent.get("/api/status");
  ASSERT_EQ(status.status, 200);
  Struct root;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(status.body, &root).ok());
  std::string reason;
  for (const auto& e : root.fields()
                           .at("details")
                           .struct_value()
                           .fields()
                           .at("echo")
                           .struct_value()
                           .fields()
                           .at("endpoints")
                           .struct_value()
                           .fields()
                           .at("endpoints")
                           .struct_value()
                           .fields()
                           .at("list")
                           .list_value()
                           .values()) {
    const auto& f = e.struct_value().fields();
    if (f.at("address").string_value() == dead) {
      reason = f.at("ban").struct_value().fields().at("reason").string_value();
    }
  }
  ASSERT_FALSE(reason.empty()) << status.body;
  EXPECT_NE(before.find("<div class=\"reason\">" + reason.substr(0, 20)), std::string::npos)
      << reason << "\n"
      << before;
  EXPECT_NE(before.find("data-type=\"ban\""), std::string::npos) << "the ban is among the events";
  const std::string overload_chart =
      "class=\"fuse-chart\" viewBox=\"0 0 600 140\" preserveAspectRatio=\"none\" "
      "data-service=\"overload\"";
  EXPECT_EQ(attribute_near(before, overload_chart, "data-max-drop"), "0") << before;

  // The overload: every request to "overload" fails, the service fuses and drops.
  std::atomic<bool> stop{false};
  std::thread load([&] {
    while (!stop) {
      through(agent, "overload");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::string during;
  double max_drop = 0;
  for (int i = 0; i < 8 && max_drop <= 0; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    during = chromium(page);
    const std::string svg = attribute_near(during, overload_chart, "data-max-drop");
    max_drop = svg.empty() ? 0 : std::stod(svg);
  }
  const std::string shot = std::string(UFC_BUILD_DIR) + "/status_page.png";
  ::unlink(shot.c_str());
  chromium(page, shot);
  stop = true;
  load.join();
  EXPECT_GT(max_drop, 0) << during;
  // The overload chart's drop line: flat (or not drawn yet) before, risen during.
  auto drop_line = [&](const std::string& dom) {
    const size_t chart = dom.find(overload_chart);
    if (chart == std::string::npos) return std::string();
    const size_t end = dom.find("</svg>", chart);
    return attribute_near(dom.substr(chart, end - chart), "class=\"drop\"", "points");
  };
  EXPECT_NE(drop_line(before), drop_line(during)) << "the drop line moved";
  EXPECT_FALSE(drop_line(during).empty());
  EXPECT_NE(during.find("fusing · drop"), std::string::npos) << during;
  struct stat st {};
  ASSERT_EQ(::stat(shot.c_str(), &st), 0) << "no screenshot at " << shot;
  EXPECT_GT(st.st_size, 20000) << "a rendered page, not a blank one";
}

TEST(ObservabilityTest, AdminViewsAskForATokenAndRefuseOtherMethods) {
  TempDir dir;
  const std::string token_file = dir.path() + "/token";
  std::ofstream(token_file) << "s3+cret\n";
  const std::string config = dir.path() + "/ufc.json";
  std::ofstream(config) << "{\"services\":[" << service_json("echo", {"127.0.0.1:9"}) << "]}";
  ServerProcess agent(UFC_AGENTD_BIN);
  ASSERT_TRUE(agent.start({"--config=" + config, "--admin_token_file=" + token_file}))
      << agent.log();
  const int port = agent.port_from("admin.port");
  auto get = [&](const std::string& path, const std::string& headers) {
    return testing::http_request(port, testing::get_request(path, headers));
  };
  HttpMessage none = get("/metrics", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  EXPECT_EQ(get("/metrics", "Authorization: Bearer wrong\r\n").status, 401);
  EXPECT_EQ(get("/metrics", "Authorization: Bearer s3+cret\r\n").status, 200);
  // In the query, '+' is itself and %XX is decoded (as the page's decodeURIComponent).
  EXPECT_EQ(get("/?token=s3+cret", "").status, 200);
  EXPECT_EQ(get("/?token=s3%2Bcret", "").status, 200);
  EXPECT_EQ(get("/?token=s3%20cret", "").status, 401);
  EXPECT_EQ(get("/api/status?x=1&token=s3+cret", "").status, 200);
  EXPECT_EQ(get("/nothing?token=s3+cret", "").status, 404);
  HttpMessage post =
      testing::http_request(port,
                            "POST /metrics HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3+cret\r\n"
                            "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(post.status, 405);
  HttpMessage head = testing::http_request(
      port, "HEAD /healthz HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3+cret\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");

  // A port another process serves is not shared (no SO_REUSEPORT on one-loop servers).
  ServerProcess twin(UFC_AGENTD_BIN);
  EXPECT_FALSE(
      twin.start({"--config=" + config, "--admin_listen=127.0.0.1:" + std::to_string(port)}));
  EXPECT_NE(twin.log().find("cannot bind"), std::string::npos) << twin.log();

  // Not loopback without a token: refused at start.
  ServerProcess open(UFC_AGENTD_BIN);
  EXPECT_FALSE(open.start({"--config=" + config, "--admin_listen=0.0.0.0:0"}));
  EXPECT_NE(open.log().find("--admin_listen=0.0.0.0:0 is not loopback"), std::string::npos)
      << open.log();
}

}  // namespace
}  // namespace ufc
