// wordcount (DESIGN §4): counts words — maximal runs of Unicode letters in UTF-8 text
// (common/words.h). Arguments: lowercase=true folds case. Output: word<TAB>count.
// Combines with the engine's native sum combiner.
#pragma once

#include "jobs/job.h"

namespace mr {

Result<std::unique_ptr<Job>> MakeWordCount(const JobArgs& args);

}  // namespace mr
