#include "ingest_progress.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "terminal_text.h"

namespace agentctl {
namespace {

std::string Duration(double seconds) {
  const auto total = static_cast<long>(seconds + 0.5);
  return total >= 3600 ? absl::StrFormat("%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60)
                       : absl::StrFormat("%ld:%02ld", total / 60, total % 60);
}

}  // namespace

IngestProgress::IngestProgress(size_t files, uint64_t bytes, bool enabled)
    : enabled_(enabled), total_files_(files), total_bytes_(bytes) {
  if (!enabled_) return;
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      Draw();
      wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
    }
  });
}

IngestProgress::~IngestProgress() { Finish(); }

void IngestProgress::Finish() {
  if (!enabled_ || !ticker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  ticker_.join();
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void IngestProgress::Sending(const std::string& first, size_t files) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  current_ = files > 1 ? absl::StrCat(first, " and ", files - 1, " more") : first;
  files_sending_ = files;
  sent_at_ = Clock::now();
  Draw();
}

void IngestProgress::Done(size_t files, uint64_t bytes, uint64_t chunks) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  files_done_ += files;
  bytes_done_ += bytes;
  chunks_done_ += chunks;
  files_sending_ = 0;
  current_.clear();
  Draw();
}

void IngestProgress::Draw() {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  constexpr int kWidth = 20;
  // Files may have grown since they were measured: the bar never runs past full.
  const int filled =
      total_bytes_ == 0 ? 0 : static_cast<int>(std::min<uint64_t>(kWidth, kWidth * bytes_done_ / total_bytes_));
  std::string line = absl::StrCat("[", std::string(filled, '#'), std::string(kWidth - filled, '.'), "] ", files_done_,
                                  "/", total_files_, " files, ", chunks_done_, " chunks");
  if (elapsed > 0 && chunks_done_ > 0) absl::StrAppend(&line, absl::StrFormat(" (%.0f chunks/s)", chunks_done_ / elapsed));
  if (bytes_done_ > 0 && bytes_done_ < total_bytes_) {
    const double left = elapsed / static_cast<double>(bytes_done_) * static_cast<double>(total_bytes_ - bytes_done_);
    absl::StrAppend(&line, ", about ", Duration(left), " left");
  }
  if (!current_.empty()) {
    // Long names are cut: the line must fit a terminal's width to be redrawn in place.
    absl::StrAppend(&line, "; ", ClipFront(current_, 39), " ",
                    Duration(std::chrono::duration<double>(Clock::now() - sent_at_).count()));
  }
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace agentctl
