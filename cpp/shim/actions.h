// The launcher's actions; each returns the exit code.
#pragma once
#include "flags.h"

namespace tsrun::shim {

int run_start(const Args& args);
int run_delete(const Args& args);
/** Hands every running brain's groups to brains of the build installed now (upgrade.cc). */
int run_upgrade(const Args& args);

/** The private service a live server answers `delete` on (task v2's Delete messages). */
inline constexpr const char* kCleanupService = "tsrun.shim.v1.Shim";
inline constexpr const char* kCleanupMethod = "Cleanup";

}  // namespace tsrun::shim
