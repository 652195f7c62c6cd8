// The run viewer's static files (agentd/viewer/: index.html, viewer.js, viewer.css), built into
// the daemon by cmake/EmbedViewer.cmake so that it serves them with no files beside it.
#ifndef AGENTD_HTTP_VIEWER_ASSETS_H_
#define AGENTD_HTTP_VIEWER_ASSETS_H_

#include <optional>
#include <string_view>

namespace agentd::http {

struct ViewerAsset {
  std::string_view media_type;
  std::string_view content;
};

// The file named `name` ("index.html"), or nullopt.
std::optional<ViewerAsset> FindViewerAsset(std::string_view name);

}  // namespace agentd::http

#endif  // AGENTD_HTTP_VIEWER_ASSETS_H_
