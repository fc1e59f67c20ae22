// A small JSON reader for what the launcher needs from config.json (annotations) and from
// state.json (the init pid). Whole documents are parsed, so a malformed file is an error
// rather than a half-read value.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tsrun::shim::json {

struct Value {
  enum class Type { Null, Bool, Number, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::map<std::string, Value> object;

  /** The member named key of an object, or nullptr. */
  const Value* get(const std::string& key) const;
};

/** Parses text; false (with *error set) when it is not one valid JSON document. */
bool parse(const std::string& text, Value* out, std::string* error);

}  // namespace tsrun::shim::json
