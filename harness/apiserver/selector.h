// Label and field selectors as the Kubernetes API server reads them from a
// query string (apimachinery's labels.Parse and fields.ParseSelector), and
// their match against an object's labels or fields.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace harness::apiserver {

using Labels = std::map<std::string, std::string>;

class LabelSelector {
 public:
  enum class Op { Exists, DoesNotExist, Equals, NotEquals, In, NotIn, GreaterThan, LessThan };
  struct Requirement {
    std::string key;
    Op op = Op::Exists;
    std::vector<std::string> values;
  };

  // "" selects everything. Throws kpath::Error (the server answers 400) on
  // syntax it does not know.
  static LabelSelector parse(const std::string& text);

  bool matches(const Labels& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  struct Requirement {
    std::string field;
    std::string value;
    bool equals = true;  // false: !=
  };

  // "" selects everything; "a=b,c!=d" with \, \= \\ escapes. Throws
  // kpath::Error on bad syntax or on a field other than `supported`.
  static FieldSelector parse(const std::string& text, const std::vector<std::string>& supported);

  // fields: the object's selectable fields (metadata.name, metadata.namespace).
  bool matches(const std::map<std::string, std::string>& fields) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace harness::apiserver
