#include "harness/apiserver/store.h"

namespace harness::apiserver {

namespace {

const char* kind_of(Bucket b) {
  switch (b) {
    case Bucket::Nodes: return "Node";
    case Bucket::Services: return "Service";
    case Bucket::EndpointSlices: return "EndpointSlice";
    case Bucket::Endpoints: return "Endpoints";
  }
  return "?";
}

// The object without the metadata the store adds: what objects_of() made.
Json bare(const Json& served) {
  Json j = served;
  for (const char* k : {"resourceVersion", "uid", "creationTimestamp"}) j["metadata"].erase(k);
  return j;
}

Json with_rv(Json j, uint64_t rv) {
  j["metadata"]["resourceVersion"] = std::to_string(rv);
  return j;
}

}  // namespace

std::string to_string(EventType t) {
  switch (t) {
    case EventType::Added: return "ADDED";
    case EventType::Modified: return "MODIFIED";
    case EventType::Deleted: return "DELETED";
  }
  return "?";
}

const Objects& Store::current(Bucket b) const {
  static const Objects kEmpty;
  auto it = served_.find(b);
  return it == served_.end() ? kEmpty : it->second;
}

void Store::record(Event e, std::vector<Event>& out) {
  Objects& objects = served_[e.bucket];
  if (e.type == EventType::Deleted) objects.erase(e.key);
  else objects[e.key] = e.object;
  history_.push_back(e);
  while (history_.size() > history_limit_) {
    oldest_ = history_.front().rv;
    history_.pop_front();
  }
  out.push_back(std::move(e));
}

void Store::diff_bucket(Bucket b, const Objects& desired, const std::string& now, std::vector<Event>& out) {
  const Objects before = current(b);
  for (const auto& [key, object] : desired) {
    auto it = before.find(key);
    if (it != before.end() && bare(it->second) == object) continue;
    Event e{++rv_, b, it == before.end() ? EventType::Added : EventType::Modified, key, object, nullptr};
    Json& m = e.object["metadata"];
    m["resourceVersion"] = std::to_string(rv_);
    m["uid"] = uid_for(kind_of(b), key);
    m["creationTimestamp"] = it == before.end() ? Json(now) : it->second["metadata"]["creationTimestamp"];
    if (it != before.end()) e.previous = it->second;
    record(std::move(e), out);
  }
  for (const auto& [key, object] : before) {
    if (desired.count(key)) continue;
    ++rv_;
    record(Event{rv_, b, EventType::Deleted, key, with_rv(object, rv_), object}, out);
  }
}

std::vector<Event> Store::replace(const ObjectSet& desired, const std::string& now) {
  std::vector<Event> out;
  static const Objects kNone;
  for (Bucket b : kBuckets) {
    auto it = desired.find(b);
    diff_bucket(b, it == desired.end() ? kNone : it->second, now, out);
  }
  return out;
}

std::optional<Objects> Store::at(Bucket b, uint64_t rv) const {
  if (rv < oldest_ || rv > rv_) return std::nullopt;
  Objects objects = current(b);
  // Undo the changes after rv, newest first.
  for (auto it = history_.rbegin(); it != history_.rend() && it->rv > rv; ++it) {
    if (it->bucket != b) continue;
    if (it->type == EventType::Added) objects.erase(it->key);
    else objects[it->key] = it->previous;
  }
  return objects;
}

std::optional<std::vector<Event>> Store::since(uint64_t rv) const {
  if (rv < oldest_) return std::nullopt;
  std::vector<Event> out;
  for (const auto& e : history_)
    if (e.rv > rv) out.push_back(e);
  return out;
}

}  // namespace harness::apiserver
