// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The public ufc::Client and ufc::Pick: thin forwarding to ClientCore and Endpoint.

#include "ufc/client.h"

#include <algorithm>

#include "src/core/client_core.h"

namespace ufc {

absl::StatusOr<std::unique_ptr<Client>> Client::create(const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<internal::ClientCore>> core =
      internal::ClientCore::create(options);
  if (!core.ok()) return core.status();
  return std::unique_ptr<Client>(new Client(*std::move(core)));
}

Client::Client(std::unique_ptr<internal::ClientCore> core) : core_(std::move(core)) {}
Client::~Client() = default;

// pick() and report() are defined in client_core.cc, beside what they call.
absl::StatusOr<Outcome> Client::call(const PickRequest& request,
                                     absl::FunctionRef<Outcome(const Pick&)> attempt) {
  return core_->call(request, attempt);
}
absl::StatusOr<Outcome> Client::call(const ServiceHandle& service, const PickRequest& request,
                                     absl::FunctionRef<Outcome(const Pick&)> attempt) {
  return core_->call(service, request, attempt);
}
absl::StatusOr<ServiceHandle> Client::service(std::string_view name) {
  return core_->service(name);
}
std::string Client::query(std::string_view what) { return core_->query(what); }
std::string Client::metrics_text(const MetricsOptions& options) {
  return core_->metrics_text(options);
}
absl::Status Client::apply(const v1::ServiceConfig& service) { return core_->apply(service); }
absl::Status Client::apply(const v1::ClientConfig& config) { return core_->apply(config); }
absl::Status Client::apply(const v1::ClientConfig& config, const ApplyOptions& options) {
  return core_->apply(config, options);
}
absl::Status Client::remove(std::string_view service) { return core_->remove(service); }
absl::Status Client::wait_for_config(std::string_view service, absl::Duration timeout) {
  return core_->wait_for_config(service, timeout);
}

namespace internal {
void ref_slot(ServiceSlot* slot) noexcept { slot->refs.fetch_add(1, std::memory_order_relaxed); }
void unref_slot(ServiceSlot* slot) noexcept {
  if (slot->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete slot;
}
std::string_view slot_name(const ServiceSlot* slot) noexcept { return slot->name; }
}  // namespace internal

// The request path builds and moves Picks by the million: seven words (the hold word's
// address saves the release a call and the report an address computation).
static_assert(sizeof(void*) != 8 || sizeof(Pick) == 56, "Pick grew");

// An injected abort's Pick has no endpoint: every accessor answers "none".
std::string_view Pick::address() const {
  return endpoint_ != nullptr ? std::string_view(endpoint_->identity().address) : "";
}

std::string_view Pick::host() const {
  if (endpoint_ == nullptr) return "";
  const internal::EndpointIdentity& id = endpoint_->identity();
  return std::string_view(id.address).substr(id.host_begin, id.host_size);
}

uint16_t Pick::port() const { return endpoint_ != nullptr ? endpoint_->identity().port : 0; }

absl::Span<const Tag> Pick::tags() const {
  if (endpoint_ == nullptr) return {};
  return *endpoint_->identity().tags;
}

std::string_view Pick::tag(std::string_view key) const {
  if (endpoint_ == nullptr) return "";
  const std::vector<Tag>& tags = *endpoint_->identity().tags;
  auto it = std::lower_bound(tags.begin(), tags.end(), key,
                             [](const Tag& t, std::string_view k) { return t.first < k; });
  return it != tags.end() && it->first == key ? std::string_view(it->second) : std::string_view();
}

}  // namespace ufc
