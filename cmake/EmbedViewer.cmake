# Writes OUTPUT: a C++ source defining agentd::http::FindViewerAsset() from the files in FILES
# (a ;-list: the run viewer's page, script and style), each under its file name. Run as
# `cmake -P` from a custom command, so the viewer needs no build step of its own.
set(_body "")
foreach(_file IN LISTS FILES)
  get_filename_component(_name "${_file}" NAME)
  get_filename_component(_extension "${_file}" LAST_EXT)
  if(_extension STREQUAL ".html")
    set(_type "text/html; charset=utf-8")
  elseif(_extension STREQUAL ".js")
    set(_type "text/javascript; charset=utf-8")
  elseif(_extension STREQUAL ".css")
    set(_type "text/css; charset=utf-8")
  else()
    message(FATAL_ERROR "${_file}: no media type for ${_extension}")
  endif()
  file(READ "${_file}" _content)
  string(FIND "${_content}" ")agentdviewer\"" _clash)
  if(NOT _clash EQUAL -1)
    message(FATAL_ERROR "${_file} contains the raw-string delimiter )agentdviewer\"")
  endif()
  string(APPEND _body "    {\"${_name}\", {\"${_type}\", R\"agentdviewer(${_content})agentdviewer\"}},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from agentd/viewer/ by cmake/EmbedViewer.cmake; do not edit.
#include \"http/viewer_assets.h\"

#include <map>

namespace agentd::http {

std::optional<ViewerAsset> FindViewerAsset(std::string_view name) {
  static const auto* assets = new std::map<std::string_view, ViewerAsset, std::less<>>{
${_body}  };
  auto found = assets->find(name);
  if (found == assets->end()) return std::nullopt;
  return found->second;
}

}  // namespace agentd::http
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
