// What the API server serves: the objects with their metadata, one
// resourceVersion counter for all of them (as etcd's revision is), and a
// bounded history of changes from which watches resume and older states are
// rebuilt (paged lists, resourceVersionMatch=Exact). Pure: no I/O, no clock,
// no locking (the server touches it from one thread).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "harness/apiserver/objects.h"

namespace harness::apiserver {

enum class EventType { Added, Modified, Deleted };
std::string to_string(EventType t);  // "ADDED", "MODIFIED", "DELETED"

struct Event {
  uint64_t rv = 0;
  Bucket bucket = Bucket::Services;
  EventType type = EventType::Added;
  ObjectKey key;
  // After the change; a deleted object's last state, at the deletion's RV.
  Json object;
  // Before the change; null for Added. Lets a selector watch turn a change
  // that leaves (enters) its selection into DELETED (ADDED), and lets the
  // store undo the change.
  Json previous;
};

class Store {
 public:
  explicit Store(size_t history_limit = 10000) : history_limit_(history_limit) {}

  // Makes `desired` the served objects. Every object that really changed gets
  // the next resourceVersion and one event (in bucket order, then key order);
  // unchanged objects keep theirs. `now` is the creationTimestamp of new objects.
  std::vector<Event> replace(const ObjectSet& desired, const std::string& now);

  uint64_t resource_version() const { return rv_; }
  // The oldest resourceVersion that can still be listed at or watched from:
  // every change after it is in the history.
  uint64_t oldest() const { return oldest_; }
  // The served objects of a bucket, with metadata.
  const Objects& current(Bucket b) const;
  // The bucket as it was at rv; nullopt when rv < oldest() or rv > resource_version().
  std::optional<Objects> at(Bucket b, uint64_t rv) const;
  // The changes after rv, oldest first; nullopt when rv < oldest().
  std::optional<std::vector<Event>> since(uint64_t rv) const;

 private:
  void record(Event e, std::vector<Event>& out);
  void diff_bucket(Bucket b, const Objects& desired, const std::string& now, std::vector<Event>& out);

  size_t history_limit_;
  uint64_t rv_ = 0;
  uint64_t oldest_ = 0;
  std::map<Bucket, Objects> served_;  // with resourceVersion, uid, creationTimestamp
  std::deque<Event> history_;
};

}  // namespace harness::apiserver
