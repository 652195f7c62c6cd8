// Work cut into one contiguous share per thread, each share a run of pieces, where a thread that
// finishes its own share takes the pieces still left at the back of another's.
//
// A decode step's products take as long as their weights take to read, so each thread gets one
// contiguous share of equal bytes and streams it from the front. On a VM the two threads do not
// run at equal speed (the host takes a vCPU now and then): measured on the 2-core EPYC VM, the
// first thread to finish waited 12–16% of every decode step's matmul time for the other. Taking
// the other's last pieces fills that wait; the owner still reads its share front to back, so
// streaming is as before.
//
//   StealingShares shares({pieces_of_share_0, pieces_of_share_1});
//   // on thread t:
//   StealingShares::Piece p;
//   while (shares.Next(t, &p)) Run(p.share, p.index);
//
// Every piece is handed out exactly once, whatever the threads' interleaving.
#ifndef AGENTD_ENGINE_CPU_STEALING_SHARES_H_
#define AGENTD_ENGINE_CPU_STEALING_SHARES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace engine::cpu {

class StealingShares {
 public:
  struct Piece {
    int share = 0;
    int64_t index = 0;  // within the share, from 0
  };

  // `piece_counts[s]`: how many pieces share s has (each below 2^31).
  explicit StealingShares(const std::vector<int64_t>& piece_counts);

  // The next piece for the thread that owns share `self` (any thread may call with any self; one
  // caller per self at a time reads its share in order): its own share's front while any is left,
  // then the back of the share with the most left. False once every share is empty.
  bool Next(int self, Piece* piece);

 private:
  // A share's [front, back) in one word, so that owner and thief claim by one compare-exchange:
  // front in the low 32 bits, back in the high.
  struct alignas(64) Range {
    std::atomic<uint64_t> front_back{0};
  };
  static uint64_t Pack(uint64_t front, uint64_t back) { return back << 32 | front; }

  // Claims the front piece of `share` (its owner) or its back piece (another thread).
  bool Take(int share, bool from_back, int64_t* index);

  int count_;
  std::unique_ptr<Range[]> ranges_;
};

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_STEALING_SHARES_H_
