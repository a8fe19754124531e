// What a locator id leads to — its asset (folder) and streaming policy — and what key delivery
// needs — content keys and content key policies — read from the Store and kept in memory.
// Store::changed() (another process ran `ams locator create/delete`) empties the cache, so changes
// take effect without a restart. Main-thread only, like the Store it owns.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "errors.h"
#include "filter/filter.h"
#include "store/store.h"

namespace ams::server {

struct Published {
  store::Locator locator;
  store::Asset asset;
  store::Policy policy;
  // Under an encrypted policy: the locator's content keys (values included: they encrypt its
  // media). Empty otherwise.
  std::vector<store::ContentKey> content_keys;
};

// The filters one request applies: the locator's, then the URL's, in that order, and a key that
// changes whenever one of their definitions does (the answer cache's and the entity tags').
struct RequestFilters {
  std::vector<filter::Filter> filters;
  std::string key;
  std::string url_value;  // the URL's `filter=` value, carried into the manifests' URLs
};

class Catalog {
 public:
  explicit Catalog(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}

  // The locator, its asset and its policy; a 404 HttpError when any of them is gone, or when
  // `now_iso` (ISO 8601 UTC, as the Store writes times) is outside the locator's start/end time.
  Result<std::shared_ptr<const Published>> lookup(const std::string& locator_id,
                                                  const std::string& now_iso, HttpError* error);

  // The filters a request through `published` applies: the locator's and those `url_names`
  // names, each an asset filter of the locator's asset or else an account filter. nullptr when
  // there are none; a 404 MPE_EGRESS_FILTER_NOT_FOUND HttpError when one does not exist. Cached
  // like the locators, until the store changes.
  Result<std::shared_ptr<const RequestFilters>> filters(const Published& published,
                                                        const std::vector<std::string>& url_names,
                                                        HttpError* error);

  // The content key of that id (key delivery), or nullopt when there is none; cached like the
  // locators, misses too, so that key requests read the database once per id until it changes.
  std::optional<store::ContentKey> content_key(const std::string& key_id);

  // The content key policy of that name (a key's policyName), parsed; nullptr when there is
  // none. Cached like the keys.
  std::shared_ptr<const store::ContentKeyPolicy> content_key_policy(const std::string& name);

  store::Store& store() { return *store_; }  // the player page lists every locator

 private:
  void forget_if_changed();

  std::unique_ptr<store::Store> store_;
  std::unordered_map<std::string, std::shared_ptr<const Published>> cache_;
  std::unordered_map<std::string, std::shared_ptr<const RequestFilters>> filters_;
  std::unordered_map<std::string, std::optional<store::ContentKey>> keys_;
  std::unordered_map<std::string, std::shared_ptr<const store::ContentKeyPolicy>> key_policies_;
};

}  // namespace ams::server
