#include "harness/traffic/probe_result.h"

namespace harness {

std::string to_string(Outcome o) {
  switch (o) {
    case Outcome::Reply: return "reply";
    case Outcome::Refused: return "refused";
    case Outcome::Reset: return "reset";
    case Outcome::Timeout: return "timeout";
    case Outcome::Unreachable: return "unreachable";
    case Outcome::Error: return "error";
  }
  return "?";
}

}  // namespace harness
