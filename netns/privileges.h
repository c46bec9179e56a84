// Whether this process may build network namespaces.
#pragma once

namespace netns {

// CAP_NET_ADMIN in the effective set.
bool has_net_admin();

}  // namespace netns
