// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "ufc/event.h"

namespace ufc {

const char* event_type_name(EventType type) {
  switch (type) {
    case EventType::kConfigApplied:
      return "config_applied";
    case EventType::kConfigRejected:
      return "config_rejected";
    case EventType::kServiceRemoved:
      return "service_removed";
    case EventType::kBan:
      return "ban";
    case EventType::kUnban:
      return "unban";
    case EventType::kProbeFailed:
      return "probe_failed";
    case EventType::kMaxBanRatio:
      return "max_ban_ratio";
    case EventType::kLongBan:
      return "long_ban";
    case EventType::kIdcWiden:
      return "idc_widen";
    case EventType::kIdcNarrow:
      return "idc_narrow";
    case EventType::kFuseStart:
      return "fuse_start";
    case EventType::kFuseStep:
      return "fuse_step";
    case EventType::kFuseEnd:
      return "fuse_end";
    case EventType::kProbation:
      return "probation";
    case EventType::kSyncConnected:
      return "sync_connected";
    case EventType::kSyncDisconnected:
      return "sync_disconnected";
    case EventType::kSyncFailover:
      return "sync_failover";
    case EventType::kCacheLoaded:
      return "cache_loaded";
    case EventType::kCacheIgnored:
      return "cache_ignored";
    case EventType::kDnsChanged:
      return "dns_changed";
    case EventType::kDnsHeld:
      return "dns_held";
    case EventType::kDnsFailed:
      return "dns_failed";
    case EventType::kDnsRecovered:
      return "dns_recovered";
  }
  return "unknown";
}

}  // namespace ufc
