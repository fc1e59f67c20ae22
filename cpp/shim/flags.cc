#include "flags.h"

#include <cstring>

namespace tsrun::shim {
namespace {

bool parse_bool(const std::string& text, bool* out) {
  // Go's strconv.ParseBool
  static const char* yes[] = {"1", "t", "T", "true", "TRUE", "True"};
  static const char* no[] = {"0", "f", "F", "false", "FALSE", "False"};
  for (const char* y : yes) {
    if (text == y) return *out = true, true;
  }
  for (const char* n : no) {
    if (text == n) return *out = false, true;
  }
  return false;
}

}  // namespace

bool parse_args(int argc, const char* const* argv, Args* out, std::string* error) {
  *out = Args{};
  struct StringFlag {
    const char* name;
    std::string* dest;
  } strings[] = {
      {"namespace", &out->ns},   {"address", &out->address}, {"publish-binary", &out->publish_binary},
      {"id", &out->id},          {"bundle", &out->bundle},   {"socket", &out->socket},
      {"debug-socket", &out->debug_socket},
  };
  struct BoolFlag {
    const char* name;
    bool* dest;
  } bools[] = {{"debug", &out->debug}, {"v", &out->version}, {"version", &out->version}, {"info", &out->info}};

  int i = 1;
  for (; i < argc; i++) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') break;  // "" or "-" or an action
    if (arg == "--") {
      i++;
      break;
    }
    size_t dashes = arg[1] == '-' ? 2 : 1;
    std::string name = arg.substr(dashes);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      *error = "bad flag syntax: " + arg;
      return false;
    }
    std::string value;
    bool has_value = false;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    bool known = false;
    for (auto& b : bools) {
      if (name != b.name) continue;
      known = true;
      if (!has_value) {
        *b.dest = true;
      } else if (!parse_bool(value, b.dest)) {
        *error = "invalid boolean value \"" + value + "\" for -" + name;
        return false;
      }
    }
    for (auto& s : strings) {
      if (name != s.name) continue;
      known = true;
      if (!has_value) {
        if (i + 1 >= argc) {
          *error = "flag needs an argument: -" + name;
          return false;
        }
        value = argv[++i];
      }
      *s.dest = value;
    }
    if (!known) {
      *error = "flag provided but not defined: -" + name;
      return false;
    }
  }
  if (i < argc) out->action = argv[i];
  return true;
}

}  // namespace tsrun::shim
