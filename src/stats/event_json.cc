// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc::event_json (ufc/event.h): one event as one JSON line.

#include "absl/time/time.h"
#include "src/stats/json_writer.h"
#include "ufc/event.h"

namespace ufc {

std::string event_json(const Event& e) {
  internal::JsonWriter w;
  w.begin_object();
  w.key("time").value(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", e.wall_time, absl::UTCTimeZone()));
  w.key("type").value(event_type_name(e.type));
  if (!e.service.empty()) w.key("service").value(e.service);
  const bool ban = e.type == EventType::kBan || e.type == EventType::kUnban ||
                   e.type == EventType::kProbeFailed || e.type == EventType::kMaxBanRatio ||
                   e.type == EventType::kLongBan || e.type == EventType::kProbation;
  const bool fuse = e.type == EventType::kFuseStart || e.type == EventType::kFuseStep ||
                    e.type == EventType::kFuseEnd;
  if (e.version != 0) w.key("version").value(e.version);
  if (!e.endpoint.empty()) w.key("endpoint").value(e.endpoint);
  if (!e.detail.empty()) w.key("detail").value(e.detail);
  if (ban && e.ban_time > absl::ZeroDuration()) {
    w.key("ban_ms").value(static_cast<int64_t>(absl::ToInt64Milliseconds(e.ban_time)));
  }
  if (ban && e.streak != 0) w.key("streak").value(e.streak);
  if (fuse) w.key("drop").value(e.drop);
  w.end_object();
  return w.str();
}

}  // namespace ufc
