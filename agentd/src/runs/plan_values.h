// Values a plan hands back, made safe to store: whatever a plan (a tenant's Lua code) returns or
// passes — invalid UTF-8, a number where a string belongs, a string where a number belongs —
// must become either clean stored data or an error naming the field, never an exception that
// ends the daemon or a protobuf string that cannot be serialised.
#ifndef AGENTD_RUNS_PLAN_VALUES_H_
#define AGENTD_RUNS_PLAN_VALUES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "agentd/v1/agent.pb.h"
#include "nlohmann/json.hpp"

namespace agentd::runs {

// The text with every invalid UTF-8 sequence replaced by U+FFFD (protobuf strings must be
// valid UTF-8).
std::string ValidUtf8(std::string_view text);

// JSON text of a value that may hold invalid UTF-8 in its strings (replaced by U+FFFD); never
// throws.
std::string DumpJson(const nlohmann::json& value);

// The most bytes of any one text a plan chose (a warning, an error, tool arguments or results,
// a query) that a run event carries: a stream holds events in memory while its client reads
// them, and a plan could otherwise make each event as large as its 256 MiB of Lua memory.
// The step's transcript (GetRun include_transcripts) keeps what a tool call passed whole.
inline constexpr size_t kMaxEventTextBytes = 64 * 1024;

// The most transcript text (requests and responses of model, memory and tool calls) one run's
// record keeps. The record lives in memory while the run is active and is written whole at every
// step's start and end: a plan making 200 memory searches that each carried an ignored 1 MiB
// field grew the daemon by 1.2 GB and the store by 480 MB, without any bound but the deadline.
inline constexpr size_t kMaxTranscriptBytes = 16 << 20;

// The most bytes of a run's events that say what a plan did rather than where it is (warnings,
// token deltas, retrieval hits, tool calls and returns) stored in one execution of the run.
// Each is a synced write: 1,000 warnings of 60 KB took 3 s, so a plan warning in a loop until
// its deadline could write tens of GB. Past it, one warning says later ones are not recorded;
// a run's and its steps' starts and ends are always stored.
inline constexpr size_t kMaxRunEventBytes = 32 << 20;

// Whether the event is one kMaxRunEventBytes bounds.
bool IsBoundedEvent(const agentd::v1::RunEvent& event);

// The most step output (the JSON that ctx.step's functions return, kept for a resumed run to
// read back) one run's record keeps; a step whose output would pass it fails. Nothing bounded
// it but the plan's 256 MiB of Lua memory per step, so a run of many steps could hold any
// amount in the daemon's memory and in one GetRun answer. 64 MiB is four times the transcript
// bound, and far more than search hits and section drafts (what the report plan's steps return).
inline constexpr size_t kMaxStepOutputBytes = 64 << 20;

// Cuts a text past kMaxEventTextBytes at a character boundary, followed by "… (N more
// bytes)". Also the errors a run's record keeps: a plan's error() of 30 MB was stored whole
// (past the tenant's share of stored runs, and past what a client reads in one GetRun).
void BoundText(std::string* text);

// Cuts the event's texts past kMaxEventTextBytes: free text at a character boundary, followed
// by "… (N more bytes)"; JSON (tool arguments and results) becomes {"clipped_bytes": N}, which
// is still JSON.
void BoundEventText(agentd::v1::RunEvent* event);

// Fills the run's artifact from what the plan's run function returned: {media_type, content,
// references = {{number, collection, document, chunk_id, title, source, offsets = {start,
// end}}}}. INVALID_ARGUMENT naming the field ("the plan's result: references[2].number: ...")
// for a result of the wrong shape.
absl::Status ArtifactFromJson(const nlohmann::json& result, agentd::v1::Artifact* artifact);

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_PLAN_VALUES_H_
