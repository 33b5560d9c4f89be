// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/resolver.h: how a Client turns the DNS names of a service's `destinations` into
// addresses, off the request path.
//
// A Client asks its Resolver on the refresh schedule of each name
// (ServiceConfig.destinations), from its background threads (and, for a new name, from
// the thread that applied the config, once the client's lock is released); pick() and
// report() never see it. The default
// (make_cares_resolver) is c-ares on one thread of its own, shared by every service of the
// client. Tests and users with their own naming system inject one (ClientOptions::resolver).

#ifndef UFC_RESOLVER_H_
#define UFC_RESOLVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ufc {

enum class DnsRecordType {
  kAddress,  // A and/or AAAA records of the name
  kSrv,      // SRV records of the name, each target's A and/or AAAA records
};

enum class AddressFamily { kAny, kIpv4, kIpv6 };

struct DnsQuery {
  std::string name;  // as configured; queried as given (no search list for SRV)
  DnsRecordType type = DnsRecordType::kAddress;
  // Which address records are asked for: of `name` (kAddress) or of each SRV target.
  AddressFamily family = AddressFamily::kAny;
};

// One address an answer yields. For an SRV answer, one per (record, target address): a
// target with two addresses gives two records with that record's port, priority, weight.
struct DnsRecord {
  std::string ip;         // an IP literal, IPv6 without brackets: "10.0.0.1", "::1"
  uint16_t port = 0;      // kSrv: the record's; kAddress: 0
  uint16_t priority = 0;  // kSrv only
  uint16_t weight = 0;    // kSrv only
};

// What a query found. `status` is OK only with at least one record. Otherwise:
//   NOT_FOUND          the name does not exist (NXDOMAIN), or has no records of the type
//                      asked (an empty answer; for SRV also: every target is missing, or
//                      the record says "." — the service is decidedly not available)
//   DEADLINE_EXCEEDED  no server answered within the tries
//   UNAVAILABLE        SERVFAIL, REFUSED, connection refused, no server configured, and
//                      any other failure (c-ares 1.18 reports SERVFAIL/REFUSED/NOTIMP from
//                      every server as one "connection refused" after trying the next one)
//   DATA_LOSS          a malformed answer (or FORMERR)
//   RESOURCE_EXHAUSTED an answer past the resolver's bounds (c-ares: 100,000 records,
//                      1,024 SRV targets)
//   CANCELLED          the resolver was destroyed before the answer came
// The message names the query and says which of these it was ("NXDOMAIN", "SERVFAIL"...).
struct DnsAnswer {
  absl::Status status;
  std::vector<DnsRecord> records;
  // The smallest TTL of the records used (for SRV: of the SRV records and the targets'
  // addresses; CNAMEs on the way count; a TTL with the top bit set is 0, RFC 2181 8).
  // InfiniteDuration when the resolver cannot tell.
  absl::Duration ttl = absl::InfiniteDuration();
};

// Resolver: asynchronous DNS lookups.
//
// Thread-safety: resolve() may be called from any thread, also from inside a `done`.
class Resolver {
 public:
  virtual ~Resolver() = default;

  // resolve() starts looking `query` up and calls `done` exactly once with the answer, on
  // a thread of the resolver's, never inside resolve() and never with a lock of the
  // resolver's held. A resolver being destroyed calls the pending ones with CANCELLED, on
  // the destroying thread, before its destructor returns (a `done` that resolves again on
  // CANCELLED would keep it from returning). It may be destroyed from inside a `done`, but
  // not while another thread is inside resolve().
  virtual void resolve(const DnsQuery& query, absl::AnyInvocable<void(DnsAnswer)> done) = 0;
};

struct ResolverOptions {
  // Name servers, "ip" or "ip:port" ("127.0.0.1:5353", "[::1]:53"). Empty: the system's
  // (/etc/resolv.conf): the hosts file is consulted first for address queries and address
  // names go through the search list (ndots), as getaddrinfo does. With servers given,
  // only they are asked: no hosts file, no search list. SRV targets are always absolute.
  std::vector<std::string> servers;
  // How long the first try waits for a server's answer (c-ares doubles it each later
  // round: tries 2 at 200 ms give up after 600 ms), and how many tries a query makes (each
  // server in turn). [1ms, 1min] and [1, 10].
  absl::Duration timeout = absl::Seconds(2);
  int tries = 2;
};

// validate_resolver_options() is what make_cares_resolver() checks first:
// INVALID_ARGUMENT naming every bad field ("ResolverOptions.servers[0]: ...").
absl::Status validate_resolver_options(const ResolverOptions& options);

// make_cares_resolver() returns the c-ares resolver: one channel and one thread (started
// at creation) that runs every query of the client. INVALID_ARGUMENT naming the field for
// bad options (a server that is not an IP literal with an optional port, say).
absl::StatusOr<std::unique_ptr<Resolver>> make_cares_resolver(const ResolverOptions& options);

}  // namespace ufc

#endif  // UFC_RESOLVER_H_
