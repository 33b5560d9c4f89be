// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ClientOptions::backup over gRPC: an AgentClient with no local agent.

#include "src/core/backup_agents.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "src/config/address.h"

namespace ufc::internal {
namespace {

class AgentBackups final : public BackupAgents {
 public:
  explicit AgentBackups(std::unique_ptr<AgentClient> agents) : agents_(std::move(agents)) {}
  absl::StatusOr<AgentPick> pick(const PickRequest& request) override {
    return agents_->pick(request);
  }
  absl::Status report(const AgentPick& pick, const Outcome& outcome) override {
    return agents_->report(pick, outcome);
  }

 private:
  const std::unique_ptr<AgentClient> agents_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BackupAgents>> BackupAgents::create(const BackupOptions& options) {
  if (options.timeout < absl::Milliseconds(1) || options.timeout > absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ClientOptions: backup.timeout: must be in [1ms, 1min], got ",
                     absl::FormatDuration(options.timeout)));
  }
  // The addresses first, named as the caller wrote them (and before any channel exists).
  absl::flat_hash_map<std::string, size_t> seen;  // canonical address -> index
  for (size_t i = 0; i < options.agents.size(); ++i) {
    absl::StatusOr<HostPort> hp = parse_address(options.agents[i]);
    if (!hp.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ClientOptions: backup.agents[", i, "]: ", hp.status().message()));
    }
    if (auto [it, added] = seen.emplace(hp->canonical, i); !added) {
      return absl::InvalidArgumentError(absl::StrCat("ClientOptions: backup.agents[", i,
                                                     "]: duplicate of backup.agents[", it->second,
                                                     "] (\"", options.agents[it->second], "\")"));
    }
  }
  AgentClientOptions agent;
  agent.local.clear();  // backups only: this client is its own local path
  agent.backups = options.agents;
  agent.token = options.token;
  agent.tls_ca_file = options.tls_ca_file;
  agent.agent_timeout = options.timeout;
  absl::StatusOr<std::unique_ptr<AgentClient>> client = AgentClient::create(agent);
  if (!client.ok()) {
    // AgentClient names its own fields ("backups: ..."): these are backup.agents.
    std::string why(client.status().message());
    if (absl::StartsWith(why, "backups: ")) why = "agents: " + why.substr(9);
    return absl::InvalidArgumentError(absl::StrCat("ClientOptions: backup.", why));
  }
  return std::unique_ptr<BackupAgents>(new AgentBackups(*std::move(client)));
}

}  // namespace ufc::internal
