// Which shim server a container belongs to. Containers of one group share one server (one
// Node process): a pod, when the CRI plugin names its sandbox; otherwise the container
// alone, or the whole namespace when TSRUN_SHIM_GROUPING=namespace is in containerd's
// environment.
#pragma once
#include <string>

#include "json.h"

namespace tsrun::shim {

/** Annotations that name a group, strongest first. */
inline constexpr const char* kGroupAnnotations[] = {
    "io.containerd.ts.v2.group",
    "io.containerd.runc.v2.group",
    "io.kubernetes.cri.sandbox-id",
};

/** The group of container id with this config.json; "" = the whole namespace. */
std::string group_of(const json::Value& config, const std::string& id, const char* grouping_env);

}  // namespace tsrun::shim
