// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "agentd/admin/agent_view.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/stats/json_writer.h"

namespace ufc_agent::admin {

extern const char kStatusPageHtml[];  // status_page.html, embedded at build time

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using ufc::internal::append_json_string;

bool parse(const std::string& json, Struct* out) {
  return google::protobuf::util::JsonStringToMessage(json, out).ok();
}

double number(const Struct& s, const char* key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? 0 : it->second.number_value();
}

// The configured services' names, sorted (query("services") lists them so).
std::vector<std::string> service_names(ufc::Client& client, size_t max) {
  std::vector<std::string> names;
  Struct root;
  if (!parse(client.query("services"), &root)) return names;
  auto it = root.fields().find("services");
  if (it == root.fields().end()) return names;
  for (const Value& v : it->second.list_value().values()) {
    if (names.size() >= max) break;
    auto n = v.struct_value().fields().find("name");
    if (n != v.struct_value().fields().end()) names.push_back(n->second.string_value());
  }
  return names;
}

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
  } else {
    absl::StrAppend(&out, v);
  }
}

}  // namespace

void EventRing::add(const ufc::Event& e) {
  std::string line = ufc::event_json(e);
  absl::MutexLock lock(&mu_);
  lines_.push_back(std::move(line));
  while (lines_.size() > capacity_) lines_.pop_front();
}

std::string EventRing::json() const {
  std::string out = "[";
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (i > 0) out += ',';
    out += lines_[i];
  }
  out += ']';
  return out;
}

AgentView::AgentView(ufc::Client* client, const EventRing* events, Options options)
    : client_(client), events_(events), options_(std::move(options)), started_(absl::Now()) {}

AgentView::~AgentView() { stop(); }

void AgentView::start() {
  if (sampler_.joinable()) return;
  sampler_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(options_.sample_period)) sample();
  });
}

void AgentView::stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (sampler_.joinable()) sampler_.join();
}

void AgentView::sample() {
  const std::vector<std::string> names = service_names(*client_, options_.max_services);
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  std::vector<std::pair<std::string, Struct>> infos;
  for (const std::string& name : names) {
    Struct root;
    if (!parse(client_->query("request_info^" + name), &root)) continue;
    auto it = root.fields().find("request_info");
    if (it == root.fields().end()) continue;
    infos.emplace_back(name, it->second.struct_value());
  }
  absl::MutexLock lock(&mu_);
  std::map<std::string, Series> next;
  for (auto& [name, info] : infos) {
    Series& s = next[name];
    auto old = history_.find(name);
    if (old != history_.end()) s = std::move(old->second);
    const auto requests = static_cast<uint64_t>(number(info, "request_cnt"));
    const auto success = static_cast<uint64_t>(number(info, "success_cnt"));
    Sample x;
    x.unix_ms = now_ms;
    x.drop = number(info, "drop");
    if (s.last_ms != 0 && requests >= s.last_requests && success >= s.last_success) {
      const uint64_t dr = requests - s.last_requests;
      if (dr > 0) x.success_rate = static_cast<double>(success - s.last_success) / dr;
      const double dt = static_cast<double>(now_ms - s.last_ms) / 1000.0;
      if (dt > 0) x.rps = static_cast<double>(dr) / dt;
    }
    s.last_requests = requests;
    s.last_success = success;
    s.last_ms = now_ms;
    s.samples.push_back(x);
    while (s.samples.size() > options_.history) s.samples.pop_front();
  }
  history_ = std::move(next);
}

std::string AgentView::status_json() {
  const std::vector<std::string> names = service_names(*client_, options_.max_services);
  std::string out = "{\"agent\":";
  out += options_.agent_json;
  absl::StrAppend(&out, ",\"uptime_s\":", absl::ToInt64Seconds(absl::Now() - started_),
                  ",\"now_ms\":", absl::ToUnixMillis(absl::Now()));
  out += ",\"services\":";
  out += client_->query("services");
  out += ",\"sync\":";
  out += client_->query("sync");
  out += ",\"details\":{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, names[i]);
    out += ":{\"info\":";
    out += client_->query("request_info^" + names[i]);
    out += ",\"endpoints\":";
    out += client_->query("endpoints^" + names[i]);
    out += '}';
  }
  out += "},\"history\":{";
  absl::MutexLock lock(&mu_);
  bool first = true;
  for (const auto& [name, series] : history_) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ":[";
    for (size_t i = 0; i < series.samples.size(); ++i) {
      const Sample& x = series.samples[i];
      if (i > 0) out += ',';
      absl::StrAppend(&out, "[", x.unix_ms, ",");
      append_number(out, x.drop);
      out += ',';
      if (x.success_rate < 0) {
        out += "null";
      } else {
        append_number(out, x.success_rate);
      }
      out += ',';
      append_number(out, x.rps);
      out += ']';
    }
    out += ']';
  }
  out += "},\"events\":";
  out += events_ != nullptr ? events_->json() : "[]";
  out += '}';
  return out;
}

proxy::SiteResponse AgentView::handle(const proxy::SiteRequest& request) {
  proxy::SiteResponse r;
  if (request.path == "/" || request.path == "/index.html") {
    r.content_type = "text/html; charset=utf-8";
    r.body = kStatusPageHtml;
  } else if (request.path == "/api/status") {
    r.content_type = "application/json";
    r.body = status_json();
  } else if (request.path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = client_->metrics_text(options_.metrics);
    if (options_.extra_metrics) r.body += options_.extra_metrics();
  } else if (request.path == "/healthz") {
    r.body = "ok\n";
  } else {
    r.status = 404;
    r.body = "not found: try /, /metrics, /api/status or /healthz\n";
  }
  return r;
}

}  // namespace ufc_agent::admin
