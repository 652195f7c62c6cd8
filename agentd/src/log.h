// Structured logging: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-23T10:00:00.123Z","level":"info","msg":"serving","addr":"127.0.0.1:7700"}
// The logger is the one process-wide global the daemon has; it is safe to call from any thread.
#ifndef AGENTD_LOG_H_
#define AGENTD_LOG_H_

#include <string_view>

#include "nlohmann/json.hpp"

namespace agentd::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Lines below `level` are dropped. Default kInfo.
void SetLevel(Level level);
// "debug" | "info" | "warn" | "error"; anything else leaves the level unchanged and returns false.
bool SetLevel(std::string_view name);

// `fields` must be a JSON object (or null); its keys are added next to ts/level/msg.
void Write(Level level, std::string_view message, const nlohmann::json& fields = nullptr);

inline void Debug(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kError, m, f); }

}  // namespace agentd::log

#endif  // AGENTD_LOG_H_
