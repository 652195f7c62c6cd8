// Version of the agentd build and of the public API it serves.
#ifndef AGENTD_VERSION_H_
#define AGENTD_VERSION_H_

namespace agentd {

// AGENTD_VERSION comes from the project version in CMakeLists.txt.
inline constexpr char kVersion[] = AGENTD_VERSION;
inline constexpr char kApiVersion[] = "agentd.v1";

}  // namespace agentd

#endif  // AGENTD_VERSION_H_
