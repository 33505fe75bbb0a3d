#include "common/defaults.h"

#include <algorithm>
#include <thread>

namespace mr {

int DefaultWorkerSlots() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

}  // namespace mr
