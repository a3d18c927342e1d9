// bricks_cpu: the CPU compute kernels of the engine (namespace bricks::cpu).
#pragma once

#include "cpu/convert.h"
#include "cpu/cpu_features.h"
#include "cpu/linear.h"
#include "cpu/ops.h"
#include "cpu/sampler.h"
#include "cpu/threads.h"
#include "cpu/weight_lanes.h"
#include "cpu/weights.h"
