// containerd-shim-ts-v2: what containerd executes for runtime io.containerd.ts.v2.
//
// A small native program, because containerd runs it on every container's critical path
// (`start` before, `delete` after): it must cost a fork and an exec, not a Node start. It is
// also each group's keeper (`keep`, cpp/keeper), the long-lived native process that holds
// containerd's connections; the brain behind the keepers (dist/bundle/shim.cjs, or
// dist/shim/main.js) is Node and does the real work.
#include <string>

#include "../keeper/keeper.h"
#include "actions.h"
#include "common.h"


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
  if (args.action == "upgrade") return run_upgrade(args);
  // No action: serve the group listening on fd 3, as runc's shim does when started so
  // (by hand, for debugging); `start` names the role.
  if (args.action == "keep" || args.action.empty()) return tsrun::keeper::run_keeper(args);
  die("unknown action \"" + args.action + "\"");
}
