#include "grouping.h"

namespace tsrun::shim {

std::string group_of(const json::Value& config, const std::string& id, const char* grouping_env) {
  if (const json::Value* annotations = config.get("annotations")) {
    for (const char* key : kGroupAnnotations) {
      const json::Value* v = annotations->get(key);
      if (v && v->type == json::Value::Type::String && !v->string.empty()) return v->string;
    }
  }
  if (grouping_env && std::string(grouping_env) == "namespace") return "";
  return id;
}

}  // namespace tsrun::shim
