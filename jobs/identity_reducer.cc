#include "jobs/identity_reducer.h"

namespace mr {
namespace {

class IdentityReducer : public Reducer {
 public:
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    std::string_view v;
    while (values.Next(&v)) out.Emit(key, v);
  }
};

}  // namespace

std::unique_ptr<Reducer> NewIdentityReducer() { return std::make_unique<IdentityReducer>(); }

}  // namespace mr
