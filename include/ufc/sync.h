// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/sync.h: config from the control servers (ufc-metad), kept in sync in the background.
//
//   ufc::ClientOptions options;
//   options.sync.servers = {{"10.0.0.1:7070", "bj"}, {"10.1.0.1:7070", "sh"}};
//   options.sync.services = {"echo"};        // or all_services = true
//   options.sync.cache_dir = "/var/cache/myapp-ufc";
//   auto client = ufc::Client::create(options).value();
//   client->wait_for_config("echo", absl::Seconds(5)).IgnoreError();   // start-up code only
//
// One background thread keeps one gRPC stream to one server: it says what the client has,
// receives only what differs, then every change as it happens; applies each through the
// same validated, versioned apply as any config; ACKs it, or NACKs the services it
// rejected (which keep their last good config). When the server goes away it moves to
// another (servers in the client's own IDC first, others only when those are all down, and
// back to its own IDC within `prefer_recheck`), with jittered exponential backoff between
// rounds. After each applied change the config is written to `cache_dir` (atomically), and
// a restart with every server down starts from it. Nothing of this runs on the request
// path: a pick for a service the client has never heard of subscribes to it in the
// background and returns NOT_FOUND at once.
//
// The store's IDC map (ufcctl put-idc-map) comes the same way, to every client whatever
// it subscribes to, and replaces the client's: the last of it and of a file's or an
// apply(ClientConfig)'s idc_map wins. Client::remove() of a synced service unsubscribes
// from it (a later pick subscribes again).

#ifndef UFC_SYNC_H_
#define UFC_SYNC_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ufc {

struct ControlServer {
  std::string address;  // host:port of a ufc-metad
  std::string idc;      // its IDC; empty: unknown (treated as another IDC)
};

struct SyncOptions {
  // The control servers, in no particular order. Empty: no sync (a cache_dir alone still
  // loads the cache at creation).
  std::vector<ControlServer> servers;
  // What to receive: every service (an agent), or these (plus any service picked).
  bool all_services = false;
  std::vector<std::string> services;
  // Bearer token for Watch (ufc-metad --watch_token_file); empty: none.
  std::string token;
  // PEM CA bundle (a file): connect with TLS, verifying the server. Empty: plaintext.
  std::string tls_ca_file;
  // Where the last good config is kept. Empty: no cache. The file is
  // <cache_dir>/<self_service or "ufc">.sync-cache.
  std::string cache_dir;
  // This client's id in the servers' ListClients. Empty: host-pid-random.
  std::string client_id;
  // The host this client says it runs on (ClientIdentity.host), e.g. the address its
  // host's endpoints are configured with; a control server's agent watch matches an
  // agent's endpoints by it (ServiceConfig.agent_watch). Empty: the machine's host name.
  std::string host;
  // Backoff between rounds of failed connects: jittered, doubling from min to max.
  absl::Duration backoff_min = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(5);
  // A server that does not answer the first request within this is given up on.
  absl::Duration response_timeout = absl::Seconds(10);
  // On a server of another IDC while one of ours exists: try ours again after this.
  absl::Duration prefer_recheck = absl::Seconds(60);
  // The cache is written at most this often (the last change always reaches it).
  absl::Duration cache_interval = absl::Milliseconds(200);
};

}  // namespace ufc

#endif  // UFC_SYNC_H_
