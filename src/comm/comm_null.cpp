#include "comm/comm.hpp"

namespace lb {
namespace {

class NullComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "null"; }
  std::string transports() const override { return "none (one rank)"; }
  std::string wire_type() const override { return "none (one rank)"; }
  Ticket start_allreduce(real*, size_t, int64_t) override { return ++issued_; }
  void wait(Ticket) override {}

 private:
  Ticket issued_ = 0;
};

}  // namespace

std::unique_ptr<Comm> make_null_comm() { return std::make_unique<NullComm>(); }

}  // namespace lb
