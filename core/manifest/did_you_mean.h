// The suggestions of host/did_you_mean.h under the manifest's namespace, for code that
// names them manifest::closest_match and so on.
#pragma once

#include "host/did_you_mean.h"

namespace bricks::manifest {

using host::closest_match;
using host::edit_distance;
using host::join;
using host::suggest;

}  // namespace bricks::manifest
