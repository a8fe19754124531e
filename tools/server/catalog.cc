#include "catalog.h"

namespace ams::server {
Result<std::shared_ptr<const Published>> Catalog::lookup(const std::string& locator_id,
                                                         const std::string& now_iso,
                                                         HttpError* error) {
  forget_if_changed();
  std::shared_ptr<const Published> entry;
  if (auto it = cache_.find(locator_id); it != cache_.end()) {
    entry = it->second;
  } else {
    auto fill = [&]() -> Result<std::shared_ptr<const Published>> {
      auto published = std::make_shared<Published>();
      AMS_ASSIGN_OR_RETURN(published->locator, store_->get_locator(locator_id));
      AMS_ASSIGN_OR_RETURN(published->asset, store_->get_asset(published->locator.asset));
      AMS_ASSIGN_OR_RETURN(published->policy, store_->get_policy(published->locator.policy));
      if (published->policy.encryption != store::Encryption::kNone) {
        AMS_ASSIGN_OR_RETURN(published->content_keys, store_->content_keys(locator_id));
      }
      return std::shared_ptr<const Published>(std::move(published));
    };
    Result<std::shared_ptr<const Published>> filled = fill();
    if (!filled) {
      *error = from_status(filled.status(), hresult::kLocatorNotFound);
      return filled.status();
    }
    entry = *filled;
    cache_[locator_id] = entry;
  }
  if (!store::is_active(entry->locator, now_iso)) {
    *error = http_error(404, hresult::kLocatorNotActive,
                        "locator " + locator_id + " is outside its start/end time");
    return not_found(error->detail);
  }
  return entry;
}

void Catalog::forget_if_changed() {
  if (!store_->changed()) return;
  cache_.clear();
  filters_.clear();
  keys_.clear();
  key_policies_.clear();
}

std::optional<store::ContentKey> Catalog::content_key(const std::string& key_id) {
  forget_if_changed();
  if (auto it = keys_.find(key_id); it != keys_.end()) return it->second;
  Result<store::ContentKey> key = store_->content_key(key_id);
  // Bounded: a client may ask for any number of ids.
  if (keys_.size() >= 4096) keys_.clear();
  return keys_[key_id] = key ? std::optional<store::ContentKey>(std::move(*key)) : std::nullopt;
}

std::shared_ptr<const store::ContentKeyPolicy> Catalog::content_key_policy(
    const std::string& name) {
  forget_if_changed();
  if (auto it = key_policies_.find(name); it != key_policies_.end()) return it->second;
  Result<store::ContentKeyPolicy> policy = store_->get_content_key_policy(name);
  // Bounded: only keys' policy names reach here, but keep it bounded as the others are.
  if (key_policies_.size() >= 4096) key_policies_.clear();
  return key_policies_[name] =
             policy ? std::make_shared<const store::ContentKeyPolicy>(std::move(*policy)) : nullptr;
}

Result<std::shared_ptr<const RequestFilters>> Catalog::filters(
    const Published& published, const std::vector<std::string>& url_names, HttpError* error) {
  std::vector<std::string> names = published.locator.filters;
  names.insert(names.end(), url_names.begin(), url_names.end());
  if (names.empty()) return std::shared_ptr<const RequestFilters>();
  forget_if_changed();
  std::string key = published.asset.name;
  for (const std::string& n : names) key += "\n" + n;
  if (auto it = filters_.find(key); it != filters_.end()) return it->second;
  Result<std::vector<filter::Filter>> resolved =
      store_->resolve_filters(published.asset.name, names);
  if (!resolved) {
    *error = from_status(resolved.status(), hresult::kFilterNotFound);
    return resolved.status();
  }
  auto out = std::make_shared<RequestFilters>();
  out->filters = std::move(*resolved);
  for (const filter::Filter& f : out->filters) out->key += filter::to_json(f) + "\n";
  for (const std::string& n : url_names) out->url_value += (out->url_value.empty() ? "" : ";") + n;
  // Bounded: a client may name many combinations.
  if (filters_.size() >= 4096) filters_.clear();
  filters_[key] = out;
  return std::shared_ptr<const RequestFilters>(std::move(out));
}

}  // namespace ams::server
