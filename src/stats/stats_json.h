// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/stats/stats_json.h: client stats rendered as the JSON `Client::query` returns. The
// shapes are documented in ufc/client.h.

#ifndef UFC_STATS_STATS_JSON_H_
#define UFC_STATS_STATS_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "src/stats/client_stats.h"

namespace ufc::internal {

// {"services":[{"name":...,"version":...,...},...]}, in the order given.
// {"services":[...]}, with "next":"<name>" first when a page has more after it (the
// `after` of the next page; empty: none).
std::string services_json(const std::vector<ServiceStats>& services,
                          const std::string& next = std::string());
// {"request_info":{"request_cnt":...,...}}
std::string request_info_json(const ServiceStats& service);
// {"endpoints":{"service":...,"version":...,"policy":...,"list":[...]}}
std::string endpoints_json(const ServiceStats& service, const std::vector<EndpointStats>& list);
// {"routes":{"service":...,"caller_idc":...,"rules":[...],"unmatched":...,"default":{...}}}
std::string routes_json(std::string_view service, const RoutingStats& routes);
// {"error":"<message>"}
std::string error_json(std::string_view message);

}  // namespace ufc::internal

#endif  // UFC_STATS_STATS_JSON_H_
