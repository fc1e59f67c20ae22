// containerd-shim-ts-v2: what containerd executes for runtime io.containerd.ts.v2.
//
// A small native program, because containerd runs it on every container's critical path
// (`start` before, `delete` after): it must cost a fork and an exec, not a Node start. The
// long-lived server it launches (dist/bundle/shim.cjs, or dist/shim/main.js) is Node and does the real work.
#include <unistd.h>

#include <string>
#include <vector>

#include "actions.h"
#include "common.h"

namespace tsrun::shim {

int run_serve(const Args& a) {
  std::vector<std::string> args = server_command();
  args.insert(args.end(), {"-namespace", a.ns, "-id", a.id, "-address", a.address, "-publish-binary", a.publish_binary});
  if (!a.socket.empty()) args.insert(args.end(), {"-socket", a.socket});
  if (a.debug) args.push_back("-debug");
  std::vector<char*> argv = c_strings(args);
  std::vector<std::string> env = server_environment();
  std::vector<char*> envp = c_strings(env);
  ::execve(argv[0], argv.data(), envp.data());
  die("exec " + args[0] + ": cannot run node");
}

}  // namespace tsrun::shim

int main(int argc, char** argv) {
  using namespace tsrun::shim;
  Args args;
  std::string error;
  if (!parse_args(argc, argv, &args, &error)) die(error);
  if (args.version) {
    write_all(1, "containerd-shim-ts-v2:\n  Version:  " TSRUN_VERSION "\n");
    return 0;
  }
  if (args.info) die("-info is not supported");
  if (args.action == "start") return run_start(args);
  if (args.action == "delete") return run_delete(args);
  if (args.action.empty()) return run_serve(args);
  die("unknown action \"" + args.action + "\"");
}
