# Writes OUTPUT: a C++ source defining agentd::runs::BuiltinPlans() from the Lua files in PLANS
# (a ;-list), each under its file name without .lua. Run as `cmake -P` from a custom command.
set(_body "")
foreach(_file IN LISTS PLANS)
  get_filename_component(_name "${_file}" NAME_WE)
  file(READ "${_file}" _content)
  string(FIND "${_content}" ")agentdplan\"" _clash)
  if(NOT _clash EQUAL -1)
    message(FATAL_ERROR "${_file} contains the raw-string delimiter )agentdplan\"")
  endif()
  string(APPEND _body "      {\"${_name}\", R\"agentdplan(${_content})agentdplan\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from agentd/plans/*.lua by cmake/EmbedPlans.cmake; do not edit.
#include \"runs/builtin_plans.h\"

namespace agentd::runs {

const std::map<std::string, std::string>& BuiltinPlans() {
  static const auto* plans = new std::map<std::string, std::string>{
${_body}  };
  return *plans;
}

}  // namespace agentd::runs
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
