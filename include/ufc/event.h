// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/event.h: notable things a Client tells the application about, through the callback
// registered in `ClientOptions::on_event`.
//
// Config applied, rejected or removed; bans and unbans; IDC affinity widening and
// narrowing; fusing start, steps and end; config sync; DNS destinations changing and failing.

#ifndef UFC_EVENT_H_
#define UFC_EVENT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/time/time.h"

namespace ufc {

enum class EventType {
  kConfigApplied,   // a service's config (new or changed) now serves picks
  kConfigRejected,  // an update failed validation or went backwards; the old config stays
  kServiceRemoved,  // a service was removed; picks for it now fail with NOT_FOUND
  kBan,             // `endpoint` is out of rotation for `ban_time`; `detail` says why
  kUnban,           // `endpoint` is back in rotation; `detail` says why: its port
                    // answered the probe, it passed probation, banning was disabled, or a
                    // worse outlier took its slot under the max ratio
  kProbeFailed,     // `endpoint`'s ban expired but it is still bad: its port did not
                    // answer, or it failed probation. Banned again for `ban_time` (doubled);
                    // `detail` is what failed, then "; banned for: " and the ban's reason
  kMaxBanRatio,     // `endpoint` should be banned but the service's max ban ratio is
                    // reached: a service-wide problem for a human, not a bad instance
  kLongBan,         // `endpoint` has been banned for `ban_time` in one streak (>= the long
                    // ban threshold): consider migrating the instance
  kIdcWiden,        // IDC affinity: the caller's IDC has too few usable endpoints in a
                    // candidate set (named in `detail`); every IDC is used now
  kIdcNarrow,       // IDC affinity: the local IDC recovered; traffic stays local again
  kFuseStart,       // the service's communication success rate fell below the threshold:
                    // it is fusing; `drop` is the share of requests dropped in pick
  kFuseStep,        // the drop share moved (reported in steps of at least 0.1)
  kFuseEnd,         // the service recovered: nothing dropped, normal timeouts and retries
  kProbation,       // `endpoint`'s ban by business signal expired: it is back in rotation
                    // on probation, with a small share of its picks, until it is judged on
                    // its own requests against its peers (then kUnban or kProbeFailed)
  // Config sync (ufc/sync.h); `detail` says which server and why.
  kSyncConnected,     // the stream to a control server is up (its first answer arrived)
  kSyncDisconnected,  // the stream ended (server gone, refused, lying); config stays
  kSyncFailover,      // connected to another server than before ("from A to B")
  kCacheLoaded,       // the on-disk cache was applied at creation (`version`: its global)
  kCacheIgnored,      // the cache file was unreadable, truncated or corrupted: not used
  // DNS destinations (ServiceConfig.destinations); `detail` starts with the name.
  kDnsChanged,    // a name's answer changed the service's endpoints: `detail` lists the
                  // addresses added (+) and removed (-); those that stayed kept their state
  kDnsHeld,       // an answer would remove more than max_removal_share of a name's
                  // endpoints at once: held until the next lookup agrees with it
  kDnsFailed,     // a lookup failed (timeout, SERVFAIL, NXDOMAIN, empty answer): the name
                  // keeps its last good endpoints (or has none yet); once per streak. Also:
                  // the answers do not fit the service's routing budgets, and some of
                  // their endpoints were left out (`detail` says how many and why)
  kDnsRecovered,  // a name answers again after failed lookups
};

// The stable lower-case name of an event type ("config_applied", ...), for logs.
const char* event_type_name(EventType type);

struct Event {
  EventType type;
  std::string service;
  uint64_t version = 0;  // the config version applied, rejected or removed
  std::string detail;    // human-readable; for rejections the full validation error, for
                         // ban events the reason
  absl::Time wall_time;  // Clock::wall_now() when it happened
  std::string endpoint;  // ban events: the backend's address
  absl::Duration ban_time = absl::ZeroDuration();  // kBan, kProbeFailed: this ban's length;
                                                   // kLongBan: the streak so far
  uint32_t streak = 0;  // ban events: consecutive bans, including this one
  double drop = 0;      // fuse events: the share of requests dropped from now on
};

// Called synchronously from the thread that caused the event (the caller of `apply`, or a
// Client background thread), never from `pick` or `report`, and never with a Client lock
// held, so it may call back into the Client. Keep it short.
using EventCallback = std::function<void(const Event&)>;

// event_json() renders `e` as one JSON object on one line, without a newline, for a
// JSON-lines log: {"time":"2026-12-02T07:41:13.250Z","type":"ban","service":...} with
// "version", "endpoint", "detail", "ban_ms", "streak" and "drop" only where the type gives
// them a meaning. Cost: one allocation per event.
std::string event_json(const Event& e);

}  // namespace ufc

#endif  // UFC_EVENT_H_
