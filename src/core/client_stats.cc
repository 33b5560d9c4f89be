// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Client::query: collects live state into stats structs (src/stats/client_stats.h) and
// renders them as JSON. Runs under the config mutex, so the snapshot it reads cannot be
// swapped out meanwhile; the request path is never blocked by it.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/common/strings.h"
#include "src/core/client_core.h"
#include "src/service/service_stats.h"
#include "src/stats/stats_json.h"

namespace ufc::internal {
namespace {

constexpr size_t kServicesPage = 100;  // services per query("services^<after>") page

}  // namespace

ServiceStats ClientCore::stats_locked(ServiceState& state, bool departed_inflight) {
  const ServiceSnapshot& snap = *state.snapshot.load(std::memory_order_acquire);
  const int64_t now_ns = coarse_.now_ns();
  state.departed.expire(now_ns);
  ServiceStats s;
  int64_t last_ns = 0;
  add_snapshot_stats(snap, now_ns, s, last_ns);
  state.departed.add_to(s.counts, departed_inflight ? &s.inflight : nullptr, last_ns, now_ns);
  // mtime: wall time of the latest report (the request path only records monotonic time),
  // or of the config when nothing was reported yet.
  absl::Time mtime = snap.applied_at;
  if (last_ns != 0) mtime = clock_->wall_now() - absl::Nanoseconds(now_ns - last_ns);
  s.mtime_unix = absl::ToUnixSeconds(mtime);
  const BanManager::ServiceBans bans = bans_->stats(state.ban_id, /*per_endpoint=*/false);
  s.bans_issued = bans.bans_issued;
  s.banned_now = bans.out_now;
  s.panic_picks = state.panic_picks.load(std::memory_order_relaxed);
  s.deadline_skipped = state.deadline_skipped.load(std::memory_order_relaxed);
  s.fuse = fuses_->stats(state.fuse_id);
  if (state.dns_id != 0) s.dns = dns_->stats(state.dns_id);
  if (state.faults != nullptr) {
    s.faults = FaultStats{true, state.faults->aborts(), state.faults->delays()};
  }
  return s;
}

std::vector<ServiceStats> ClientCore::stats() {
  absl::MutexLock lock(&mu_);
  std::vector<ServiceStats> out;
  // The summary: picks in flight to the endpoints in the config only.
  for (const auto& [name, state] : services_) out.push_back(stats_locked(*state, false));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::vector<ServiceStats> ClientCore::stats_page(std::string_view after, size_t limit, bool& more) {
  absl::MutexLock lock(&mu_);
  std::vector<ServiceStats> out;
  auto it = by_name_.upper_bound(after);
  for (; it != by_name_.end() && out.size() < limit; ++it) {
    out.push_back(stats_locked(*it->second, false));
  }
  more = it != by_name_.end();
  return out;
}

std::string ClientCore::query(std::string_view what) {
  if (what == "services") return services_json(stats());
  if (what.substr(0, 9) == "services^") {  // a page: O(what it shows), for a large fleet
    bool more = false;
    const std::vector<ServiceStats> page = stats_page(what.substr(9), kServicesPage, more);
    return services_json(page, more && !page.empty() ? page.back().name : std::string());
  }
  if (what == "sync") {
    return sync_ != nullptr ? sync_->status_json() : error_json("no sync configured");
  }
  if (what == "backup") {
    return remote_ != nullptr ? remote_->status_json() : error_json("no backup agents configured");
  }
  const size_t caret = what.find('^');
  const std::string_view kind = what.substr(0, caret == std::string_view::npos ? 0 : caret + 1);
  if (kind != "request_info^" && kind != "endpoints^" && kind != "routes^") {
    return error_json(absl::StrCat(
        "unknown query \"", av(what),
        "\"; expected services, services^<after>, sync, backup, request_info^<service>, "
        "endpoints^<service> or routes^<service>"));
  }
  const std::string_view service = what.substr(caret + 1);
  absl::MutexLock lock(&mu_);
  auto it = services_.find(av(service));
  if (it == services_.end()) {
    return error_json(absl::StrCat("service \"", av(service), "\" is not configured"));
  }
  ServiceState& state = *it->second;
  if (kind == "request_info^") return request_info_json(stats_locked(state, true));
  const ServiceSnapshot& snap = *state.snapshot.load(std::memory_order_acquire);
  if (kind == "routes^") return routes_json(state.name, routing_stats(snap));
  ServiceStats s;
  int64_t last_ns = 0;
  add_snapshot_stats(snap, coarse_.now_ns(), s, last_ns);
  return endpoints_json(s, endpoint_stats(snap, bans_->stats(state.ban_id, true).endpoints));
}

}  // namespace ufc::internal
